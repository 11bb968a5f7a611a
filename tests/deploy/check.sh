#!/bin/sh
# tests/deploy/check.sh - offline checks of deploy/ (no cluster, no network).
#
#   sh tests/deploy/check.sh
#
# Prints one line per check ("ok", "FAIL" or "skip") and a closing
# "N passed, N failed, N skipped"; exits 1 if anything failed. A missing
# tool is skipped with a message, or fails under CI=true. What each check
# is for: docs/deploy.md "Checking the files".
set -u

cd "$(dirname "$0")/../.." || exit 1
D=deploy
passed=0
failed=0
skipped=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/reqacct-deploy.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

ok() { passed=$((passed + 1)); echo "ok    $1"; }
bad() { failed=$((failed + 1)); echo "FAIL  $1"; }
skip() {
	if [ "${CI:-}" = true ]; then
		bad "$1 (CI=true: a missing tool fails)"
	else
		skipped=$((skipped + 1))
		echo "skip  $1"
	fi
}
have() { command -v "$1" >/dev/null 2>&1; }
# run NAME CMD...: the command's output is shown indented if it fails
run() {
	name=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		ok "$name"
	else
		bad "$name"
		sed 's/^/      /' "$tmp/out"
	fi
}

for f in kubernetes/daemonset.yaml kubernetes/daemonset-privileged.yaml \
	prometheus/podmonitor.yaml prometheus/servicemonitor.yaml \
	prometheus/scrape-config.yaml prometheus/rules.yaml prometheus/rules_test.yaml \
	grafana/reqacct.json systemd/reqacct.service; do
	if [ -f "$D/$f" ]; then ok "present: $D/$f"; else bad "present: $D/$f"; fi
done

# --- Python with the yaml module (Debian: python3-yaml) -----------------------
PY=
for p in python3 /usr/bin/python3; do
	if have "$p" && "$p" -c 'import yaml' 2>/dev/null; then
		PY=$p
		break
	fi
done

# --- Prometheus: promtool ------------------------------------------------------
if have promtool; then
	run "promtool check rules $D/prometheus/rules.yaml" \
		promtool check rules "$D/prometheus/rules.yaml"
	run "promtool test rules $D/prometheus/rules_test.yaml (every alert fires on its series)" \
		promtool test rules "$D/prometheus/rules_test.yaml"

	# check config on a copy beside a copy of the rules it names
	cp "$D/prometheus/scrape-config.yaml" "$D/prometheus/rules.yaml" "$tmp/"
	if promtool check config "$tmp/scrape-config.yaml" >"$tmp/out" 2>&1; then
		ok "promtool check config $D/prometheus/scrape-config.yaml"
	elif grep -q 'field kubernetes_sd_configs not found' "$tmp/out" && [ -n "$PY" ]; then
		# Debian's promtool has no Kubernetes service discovery: check the
		# rest with the SD replaced by a static target; the SD part is
		# checked by the Python checks below.
		echo "      (this promtool is built without kubernetes_sd_configs: checking a copy without it)"
		"$PY" - "$tmp/scrape-config.yaml" <<'EOF'
import sys, yaml
p = sys.argv[1]
c = yaml.safe_load(open(p))
for j in c["scrape_configs"]:
    if j.pop("kubernetes_sd_configs", None) is not None:
        j["static_configs"] = [{"targets": ["192.0.2.1:9464"]}]
yaml.safe_dump(c, open(p, "w"), sort_keys=False)
EOF
		run "promtool check config $D/prometheus/scrape-config.yaml (without kubernetes_sd_configs)" \
			promtool check config "$tmp/scrape-config.yaml"
	else
		bad "promtool check config $D/prometheus/scrape-config.yaml"
		sed 's/^/      /' "$tmp/out"
	fi
else
	skip "promtool check rules / test rules / check config: promtool not installed (Debian: prometheus)"
fi

# --- systemd -------------------------------------------------------------------
if have systemd-analyze; then
	# verify wants ExecStart to exist: the built binary if there is one
	bin=/bin/true
	[ -x .output/reqacct ] && bin=$(pwd)/.output/reqacct
	sed "s|/usr/local/bin/reqacct|$bin|" "$D/systemd/reqacct.service" >"$tmp/reqacct.service"
	if systemd-analyze verify "$tmp/reqacct.service" >"$tmp/out" 2>&1 && ! [ -s "$tmp/out" ]; then
		ok "systemd-analyze verify $D/systemd/reqacct.service (ExecStart: $bin)"
	else
		bad "systemd-analyze verify $D/systemd/reqacct.service"
		sed 's/^/      /' "$tmp/out"
	fi
else
	skip "systemd-analyze verify: systemd-analyze not installed"
fi

# --- the dashboard is JSON -------------------------------------------------------
if have python3; then
	run "python3 -m json.tool $D/grafana/reqacct.json" python3 -m json.tool "$D/grafana/reqacct.json"
else
	skip "python3 -m json.tool: python3 not installed"
fi

# --- manifests, monitors, metric names: Python ---------------------------------------
if [ -z "$PY" ]; then
	skip "manifest, monitor and metric-name checks: no python3 with the yaml module (Debian: python3-yaml)"
else
	cat >"$tmp/check.py" <<'EOF'
import json, os, re, subprocess, sys
import yaml

D = "deploy"
TARGET_LABELS = {"job", "instance", "node", "pod", "namespace", "container", "endpoint", "service"}
IMAGE = "ghcr.io/example/reqacct:VERSION"


def say(ok, what, why=""):
    print(("ok    " if ok else "FAIL  ") + what + ("" if ok or not why else ": " + str(why)))
    return ok


def load_all(path):
    return [d for d in yaml.safe_load_all(open(path)) if d is not None]


def read(path):
    return open(path).read()


# ----------------------------------------------------------------------------
# What the README says: metric families with their labels, agent flags.

def readme_section(text, start, stop_re):
    i = text.index(start)
    m = re.compile(stop_re, re.M).search(text, i + len(start))
    return text[i:m.start() if m else len(text)]


def split_row(line):
    """Cells of a markdown table row; a | inside backticks is not a separator."""
    cells, cur, tick = [], "", False
    for ch in line.strip().strip("|"):
        if ch == "`":
            tick = not tick
        if ch == "|" and not tick:
            cells.append(cur.strip())
            cur = ""
        else:
            cur += ch
    cells.append(cur.strip())
    return cells


def strip_parens(s):
    out, depth = "", 0
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            out += ch
    return out


FLOW = {"role", "cgroup", "comm", "port", "peer"}


def readme_metrics(readme):
    sec = readme_section(readme, "## Metrics", r"^## ")
    fams = {}        # name -> set of labels
    hist = set()
    prev = []        # labels of the previous rows
    for line in sec.splitlines():
        if not line.startswith("| `"):
            continue
        cells = split_row(line)
        if len(cells) < 3:
            continue
        names = re.findall(r"`([a-z_][a-z0-9_]*)`", cells[0])
        types = [t.strip() for t in cells[1].split(",")]
        labtext = cells[2]
        flat = strip_parens(labtext)
        labels = {t.split("=")[0] for t in re.findall(r"`([a-z_][a-z0-9_]*(?:=\"[^`]*\")?)`", flat)}
        low = flat.lower()
        if "same as flows" in low or "as flows" in low:
            labels |= FLOW
        m = re.search(r"as `(reqacct_[a-z0-9_]+)`", labtext)
        if m and m.group(1) in fams:
            labels |= fams[m.group(1)]
            if "without `code`" in labtext:
                labels.discard("code")
        if low.strip().startswith("same") and not m and "flows" not in low:
            labels |= prev[-1] if prev else set()
        if "as above" in low:
            for p in prev[-4:]:
                labels |= p
        labels = {l for l in labels if not l.startswith("reqacct_")}
        for i, n in enumerate(names):
            fams[n] = set(labels)
            t = types[i] if len(types) == len(names) else types[0]
            if "histogram" in t:
                hist.add(n)
        prev.append(labels)
    allowed = {}
    for n, l in fams.items():
        allowed[n] = l
        if n in hist:
            for suf in ("_bucket", "_sum", "_count"):
                allowed[n + suf] = l | ({"le"} if suf == "_bucket" else set())
    return allowed


def readme_flags(readme):
    sec = readme_section(readme, "## Usage", r"^### ")
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])", sec))


README = read("README.md")
METRICS = readme_metrics(README)
FLAGS = readme_flags(README)
say(len(METRICS) > 30 and "reqacct_k8s_requests_total" in METRICS,
    f"README.md metric table read: {len(METRICS)} names with labels")
say("--listen" in FLAGS and "--cgroupfs" in FLAGS, f"README.md usage read: {len(FLAGS)} flags")

# ----------------------------------------------------------------------------
# Capabilities: docs/deploy.md's table is the documented set.

DOC = read("docs/deploy.md")
caps_sec = readme_section(DOC, "### Capabilities", r"^#")
DOC_CAPS = set(re.findall(r"^\| `CAP_([A-Z_]+)` \|", caps_sec, re.M))
say(bool(DOC_CAPS), f"docs/deploy.md documents the capability set: {sorted(DOC_CAPS)}")

# ----------------------------------------------------------------------------
# Kubernetes manifests: the fields each object may have (a subset of the API,
# enough to catch a misspelt or misplaced field), and our rules.

KEYS = {
    "Namespace": {"apiVersion", "kind", "metadata"},
    "ServiceAccount": {"apiVersion", "kind", "metadata", "automountServiceAccountToken"},
    "ResourceQuota": {"apiVersion", "kind", "metadata", "spec"},
    "DaemonSet": {"apiVersion", "kind", "metadata", "spec"},
    "Service": {"apiVersion", "kind", "metadata", "spec"},
    "PodMonitor": {"apiVersion", "kind", "metadata", "spec"},
    "ServiceMonitor": {"apiVersion", "kind", "metadata", "spec"},
}
API = {"Namespace": "v1", "ServiceAccount": "v1", "ResourceQuota": "v1", "DaemonSet": "apps/v1",
       "Service": "v1", "PodMonitor": "monitoring.coreos.com/v1",
       "ServiceMonitor": "monitoring.coreos.com/v1"}
METADATA = {"name", "namespace", "labels", "annotations"}
DS_SPEC = {"selector", "template", "updateStrategy", "minReadySeconds", "revisionHistoryLimit"}
POD_SPEC = {"serviceAccountName", "automountServiceAccountToken", "enableServiceLinks", "hostPID",
            "hostNetwork", "hostIPC", "dnsPolicy", "priorityClassName", "terminationGracePeriodSeconds",
            "nodeSelector", "tolerations", "affinity", "containers", "initContainers", "volumes",
            "securityContext"}
CONTAINER = {"name", "image", "imagePullPolicy", "command", "args", "env", "ports", "startupProbe",
             "livenessProbe", "readinessProbe", "resources", "securityContext", "volumeMounts"}
SECCTX = {"privileged", "runAsUser", "runAsGroup", "runAsNonRoot", "allowPrivilegeEscalation",
          "readOnlyRootFilesystem", "capabilities", "seccompProfile", "appArmorProfile",
          "seLinuxOptions", "procMount"}
PROBE = {"tcpSocket", "httpGet", "exec", "grpc", "initialDelaySeconds", "periodSeconds",
         "timeoutSeconds", "failureThreshold", "successThreshold"}
TOLERATION = {"key", "operator", "value", "effect", "tolerationSeconds"}
PORT = {"name", "containerPort", "protocol", "hostPort"}
MOUNT = {"name", "mountPath", "readOnly", "mountPropagation", "subPath"}
VOLUME = {"name", "hostPath", "emptyDir", "configMap", "secret"}
BOOLS = {"automountServiceAccountToken", "enableServiceLinks", "hostPID", "hostNetwork", "hostIPC",
         "privileged", "runAsNonRoot", "allowPrivilegeEscalation", "readOnlyRootFilesystem", "readOnly"}
INTS = {"runAsUser", "runAsGroup", "containerPort", "hostPort", "periodSeconds", "timeoutSeconds",
        "failureThreshold", "successThreshold", "initialDelaySeconds", "terminationGracePeriodSeconds"}


def keys_ok(obj, allowed, where, errs):
    if not isinstance(obj, dict):
        errs.append(f"{where}: not a mapping")
        return
    for k, v in obj.items():
        if k not in allowed:
            errs.append(f"{where}: unknown field {k!r}")
        if k in BOOLS and not isinstance(v, bool):
            errs.append(f"{where}.{k}: not a boolean: {v!r}")
        if k in INTS and (not isinstance(v, int) or isinstance(v, bool)):
            errs.append(f"{where}.{k}: not an integer: {v!r}")


def schema(docs, path):
    errs = []
    for d in docs:
        kind = d.get("kind")
        w = f"{kind}/{d.get('metadata', {}).get('name')}"
        if kind not in KEYS:
            errs.append(f"{w}: unexpected kind")
            continue
        if d.get("apiVersion") != API[kind]:
            errs.append(f"{w}: apiVersion {d.get('apiVersion')!r}, want {API[kind]!r}")
        keys_ok(d, KEYS[kind], w, errs)
        keys_ok(d.get("metadata", {}), METADATA, w + ".metadata", errs)
        if not d.get("metadata", {}).get("name"):
            errs.append(f"{w}: no metadata.name")
        if kind != "Namespace" and d["metadata"].get("namespace") != "reqacct":
            errs.append(f"{w}: not in namespace reqacct")
        if kind == "DaemonSet":
            keys_ok(d["spec"], DS_SPEC, w + ".spec", errs)
            ps = d["spec"]["template"]["spec"]
            keys_ok(d["spec"]["template"], {"metadata", "spec"}, w + ".spec.template", errs)
            keys_ok(ps, POD_SPEC, w + ".pod", errs)
            for t in ps.get("tolerations", []):
                keys_ok(t, TOLERATION, w + ".tolerations[]", errs)
            for v in ps.get("volumes", []):
                keys_ok(v, VOLUME, w + ".volumes[]", errs)
            for c in ps.get("containers", []) + ps.get("initContainers", []):
                cw = f"{w}.containers[{c.get('name')}]"
                keys_ok(c, CONTAINER, cw, errs)
                keys_ok(c.get("securityContext", {}), SECCTX, cw + ".securityContext", errs)
                keys_ok(c.get("securityContext", {}).get("capabilities", {}), {"add", "drop"},
                        cw + ".capabilities", errs)
                for p in ("startupProbe", "livenessProbe", "readinessProbe"):
                    if p in c:
                        keys_ok(c[p], PROBE, f"{cw}.{p}", errs)
                for p in c.get("ports", []):
                    keys_ok(p, PORT, cw + ".ports[]", errs)
                for m in c.get("volumeMounts", []):
                    keys_ok(m, MOUNT, cw + ".volumeMounts[]", errs)
                keys_ok(c.get("resources", {}), {"requests", "limits"}, cw + ".resources", errs)
    say(not errs, f"{path}: kinds, apiVersions and fields", "; ".join(errs))


def quantity(q):
    q = str(q)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    for u, f in units.items():
        if q.endswith(u):
            return float(q[: -len(u)]) * f
    return float(q)


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def daemonset_rules(docs, path, privileged):
    ns, sa, ds = by_kind(docs, "Namespace"), by_kind(docs, "ServiceAccount"), by_kind(docs, "DaemonSet")
    say(len(ns) == 1 and ns[0]["metadata"]["name"] == "reqacct", f"{path}: Namespace reqacct")
    say(len(sa) == 1 and sa[0].get("automountServiceAccountToken") is False,
        f"{path}: ServiceAccount with automountServiceAccountToken: false")
    if not say(len(ds) == 1, f"{path}: one DaemonSet"):
        return None
    d = ds[0]
    ps = d["spec"]["template"]["spec"]
    tl = d["spec"]["template"]["metadata"].get("labels", {})
    sel = d["spec"]["selector"].get("matchLabels", {})
    say(sel and all(tl.get(k) == v for k, v in sel.items()), f"{path}: selector matches the pod labels")
    say(ps.get("serviceAccountName") == sa[0]["metadata"]["name"] and ps.get("automountServiceAccountToken") is False,
        f"{path}: pod uses the ServiceAccount, no token mounted")
    say(ps.get("hostPID") is True and ps.get("hostNetwork") is True, f"{path}: hostPID and hostNetwork")
    say(ps.get("dnsPolicy") == "Default", f"{path}: dnsPolicy Default (no cluster DNS)")
    say(ps.get("priorityClassName") == "system-node-critical", f"{path}: priorityClassName system-node-critical")
    rq = by_kind(docs, "ResourceQuota")
    say(any("system-node-critical" in str(q["spec"].get("scopeSelector")) for q in rq),
        f"{path}: a ResourceQuota admits the priority class")
    tol = {(t.get("key"), t.get("effect")) for t in ps.get("tolerations", [])}
    say(("node-role.kubernetes.io/control-plane", "NoSchedule") in tol,
        f"{path}: tolerates control-plane nodes")
    cs = ps.get("containers", [])
    if not say(len(cs) == 1 and not ps.get("initContainers"), f"{path}: one container"):
        return None
    c = cs[0]
    say(c.get("image") == IMAGE, f"{path}: image is the placeholder {IMAGE}", c.get("image"))
    args = c.get("args", [])
    say(args[:3] == ["agent", "--listen", ":9464"], f"{path}: args agent --listen :9464", args)
    unknown = [a for a in args if a.startswith("-") and a not in FLAGS]
    say(not unknown, f"{path}: every flag is in README.md's usage", unknown)
    ports = c.get("ports", [])
    say(any(p.get("containerPort") == 9464 and p.get("name") == "metrics" for p in ports),
        f"{path}: container port 9464 named metrics")
    probes = [c.get(p) for p in ("startupProbe", "livenessProbe", "readinessProbe")]
    say(all(p and p.get("tcpSocket", {}).get("port") == 9464 and "httpGet" not in p for p in probes),
        f"{path}: startup, liveness and readiness probes are TCP connects to 9464 (not /metrics)")
    r = c.get("resources", {})
    want = {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
    say(r == want, f"{path}: resources requests 50m/128Mi, limits 500m/256Mi", r)
    say(all(quantity(r.get("requests", {}).get(k, 0)) <= quantity(r.get("limits", {}).get(k, 0))
            for k in ("cpu", "memory")), f"{path}: requests <= limits")
    sc = c.get("securityContext", {})
    say(sc.get("readOnlyRootFilesystem") is True, f"{path}: readOnlyRootFilesystem")
    say(sc.get("runAsUser") == 0, f"{path}: runs as uid 0 (capabilities need it)")
    if privileged:
        say(sc.get("privileged") is True and sc.get("allowPrivilegeEscalation") is not False,
            f"{path}: privileged: true")
    else:
        say(sc.get("privileged") is False and "privileged: true" not in read(path),
            f"{path}: not privileged")
        say(sc.get("allowPrivilegeEscalation") is False, f"{path}: allowPrivilegeEscalation false")
        capd = sc.get("capabilities", {})
        say(capd.get("drop") == ["ALL"], f"{path}: capabilities drop ALL")
        add = capd.get("add", [])
        say(len(add) == len(set(add)) and set(add) == DOC_CAPS,
            f"{path}: capabilities add exactly the documented set", sorted(add))
        say(sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{path}: seccomp RuntimeDefault")
    vols = {v["name"]: v for v in ps.get("volumes", [])}
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    hp = {n: v["hostPath"]["path"] for n, v in vols.items() if "hostPath" in v}
    say(set(hp.values()) == {"/sys/fs/cgroup", "/var/log/pods"},
        f"{path}: host paths: only /sys/fs/cgroup and /var/log/pods", sorted(hp.values()))
    say(all(mounts.get(n, {}).get("readOnly") is True for n in hp), f"{path}: host paths mounted read-only")
    for host, flag in (("/sys/fs/cgroup", "--cgroupfs"), ("/var/log/pods", "--pod-logs-dir")):
        mp = [mounts[n]["mountPath"] for n, p in hp.items() if p == host and n in mounts]
        say(mp and flag in args and args[args.index(flag) + 1] == mp[0],
            f"{path}: {flag} is where the host's {host} is mounted", mp)
    return d


main_docs = load_all(f"{D}/kubernetes/daemonset.yaml")
priv_docs = load_all(f"{D}/kubernetes/daemonset-privileged.yaml")
schema(main_docs, f"{D}/kubernetes/daemonset.yaml")
schema(priv_docs, f"{D}/kubernetes/daemonset-privileged.yaml")
DS = daemonset_rules(main_docs, f"{D}/kubernetes/daemonset.yaml", False)
daemonset_rules(priv_docs, f"{D}/kubernetes/daemonset-privileged.yaml", True)


def without_secctx(docs):
    docs = json.loads(json.dumps(docs))
    for d in docs:
        if d.get("kind") == "DaemonSet":
            for c in d["spec"]["template"]["spec"]["containers"]:
                c.pop("securityContext", None)
    return docs


say(without_secctx(main_docs) == without_secctx(priv_docs),
    f"{D}/kubernetes/daemonset-privileged.yaml differs from daemonset.yaml only in the securityContext")

# ----------------------------------------------------------------------------
# Monitors and the scrape configuration against the DaemonSet.

# Labels the operator puts on every target and the agent exports as well
# (reqacct_cgroup_info's namespace and pod): the monitors must drop the
# target's, or the agent's become exported_namespace and exported_pod.
EXPORTED = {"namespace", "pod", "container"} & set().union(*METRICS.values())


def drops_own_labels(relabelings):
    drops = [r.get("regex", "") for r in relabelings if r.get("action", "").lower() == "labeldrop"]
    return all(any(re.fullmatch(d, l) for d in drops) for l in EXPORTED)


if DS:
    pod_labels = DS["spec"]["template"]["metadata"]["labels"]
    port_names = {p["name"] for p in DS["spec"]["template"]["spec"]["containers"][0]["ports"]}

    pm_docs = load_all(f"{D}/prometheus/podmonitor.yaml")
    schema(pm_docs, f"{D}/prometheus/podmonitor.yaml")
    pm = by_kind(pm_docs, "PodMonitor")
    if say(len(pm) == 1, f"{D}/prometheus/podmonitor.yaml: one PodMonitor"):
        s = pm[0]["spec"]
        say(all(pod_labels.get(k) == v for k, v in s["selector"]["matchLabels"].items())
            and "reqacct" in s["namespaceSelector"]["matchNames"], "PodMonitor selects the DaemonSet's pods")
        eps = s["podMetricsEndpoints"]
        say(all(e.get("port") in port_names and e.get("interval") == "15s" for e in eps),
            "PodMonitor: port 'metrics', interval 15s")
        say(re.fullmatch(r"reqacct.*", pod_labels.get(s.get("jobLabel", ""), "")) is not None,
            "PodMonitor: job label matches the rules' job=~\"reqacct.*\"")
        say(all(drops_own_labels(e.get("relabelings", [])) for e in eps),
            f"PodMonitor drops the target labels {sorted(EXPORTED)} (the agent exports its own)")

    sm_docs = load_all(f"{D}/prometheus/servicemonitor.yaml")
    schema(sm_docs, f"{D}/prometheus/servicemonitor.yaml")
    svc, sm = by_kind(sm_docs, "Service"), by_kind(sm_docs, "ServiceMonitor")
    if say(len(svc) == 1 and len(sm) == 1, f"{D}/prometheus/servicemonitor.yaml: a Service and a ServiceMonitor"):
        ss, ms = svc[0]["spec"], sm[0]["spec"]
        say(ss.get("clusterIP") == "None", "Service is headless")
        say(all(pod_labels.get(k) == v for k, v in ss["selector"].items()), "Service selects the DaemonSet's pods")
        say(all(p.get("targetPort") in port_names | {9464} for p in ss["ports"]), "Service targets port 'metrics'")
        svc_labels = svc[0]["metadata"].get("labels", {})
        say(all(svc_labels.get(k) == v for k, v in ms["selector"]["matchLabels"].items())
            and "reqacct" in ms["namespaceSelector"]["matchNames"], "ServiceMonitor selects the Service")
        say(all(e.get("port") in {p["name"] for p in ss["ports"]} and e.get("interval") == "15s"
                for e in ms["endpoints"]), "ServiceMonitor: port 'metrics', interval 15s")
        say(re.fullmatch(r"reqacct.*", svc_labels.get(ms.get("jobLabel", ""), "")) is not None,
            "ServiceMonitor: job label matches the rules' job=~\"reqacct.*\"")
        say(all(drops_own_labels(e.get("relabelings", [])) for e in ms["endpoints"]),
            f"ServiceMonitor drops the target labels {sorted(EXPORTED)} (the agent exports its own)")

    sc = yaml.safe_load(open(f"{D}/prometheus/scrape-config.yaml"))
    say(sc["global"].get("scrape_interval") == "15s", "scrape-config.yaml: scrape_interval 15s")
    jobs = sc["scrape_configs"]
    say(all(re.fullmatch(r"reqacct.*", j["job_name"]) for j in jobs)
        and all(j.get("scrape_interval", "15s") == "15s" for j in jobs),
        "scrape-config.yaml: every job named reqacct*, every interval 15s")
    k8s = [j for j in jobs if "kubernetes_sd_configs" in j]
    errs = []
    if len(k8s) != 1:
        errs.append("want one job with kubernetes_sd_configs")
    else:
        j = k8s[0]
        for sd in j["kubernetes_sd_configs"]:
            if set(sd) - {"role", "namespaces", "selectors"} or sd.get("role") != "pod":
                errs.append(f"sd config {sd}: want role: pod (and namespaces, selectors)")
            if "reqacct" not in sd.get("namespaces", {}).get("names", []):
                errs.append("sd config: not limited to namespace reqacct")
            for s in sd.get("selectors", []):
                k, _, v = s.get("label", "").partition("=")
                if s.get("role") != "pod" or pod_labels.get(k) != v:
                    errs.append(f"selector {s} does not select the pods")
        keeps = {tuple(r["source_labels"]): r["regex"] for r in j["relabel_configs"] if r.get("action") == "keep"}
        for k, v in pod_labels.items():
            meta = "__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", k)
            if (meta,) in keeps and not re.fullmatch(keeps[(meta,)], v):
                errs.append(f"keep {meta} =~ {keeps[(meta,)]} drops the pods")
        pk = keeps.get(("__meta_kubernetes_pod_container_port_name",))
        if not pk or not any(re.fullmatch(pk, n) for n in port_names):
            errs.append("no keep on the container port named metrics")
    say(not errs, "scrape-config.yaml: the Kubernetes job finds the DaemonSet's pods and port", "; ".join(errs))
    say(any("static_configs" in j for j in jobs), "scrape-config.yaml: a static_configs job for hosts outside Kubernetes")
    tl = {r.get("target_label") for j in jobs for r in j.get("relabel_configs", [])}
    say(not (tl & EXPORTED), f"scrape-config.yaml: no target label the agent exports itself ({sorted(EXPORTED)})",
        sorted(tl & EXPORTED))

# ----------------------------------------------------------------------------
# systemd unit: the same capabilities, the hardening asked for.

unit = {}
for line in read(f"{D}/systemd/reqacct.service").splitlines():
    if "=" in line and not line.lstrip().startswith(("#", ";")):
        k, _, v = line.partition("=")
        unit[k.strip()] = v.strip()
amb = {c[4:] for c in unit.get("AmbientCapabilities", "").split()}
bnd = {c[4:] for c in unit.get("CapabilityBoundingSet", "").split()}
say(amb == DOC_CAPS and bnd == DOC_CAPS, "reqacct.service: AmbientCapabilities and CapabilityBoundingSet are the documented set",
    f"{sorted(amb)} {sorted(bnd)}")
want = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes", "Restart": "on-failure"}
say(all(unit.get(k) == v for k, v in want.items()) and unit.get("ProtectHome") in ("yes", "read-only", "tmpfs")
    and unit.get("MemoryMax"), "reqacct.service: NoNewPrivileges, ProtectSystem=strict, ProtectHome, PrivateTmp, Restart=on-failure, MemoryMax")
es = unit.get("ExecStart", "").split()
say(es[:2] == ["/usr/local/bin/reqacct", "agent"] and all(a in FLAGS for a in es if a.startswith("-")),
    "reqacct.service: ExecStart /usr/local/bin/reqacct agent, flags in README.md's usage", es)

# ----------------------------------------------------------------------------
# Metric names and labels in the rules, the dashboard and docs/deploy.md's
# PromQL, against README.md's metric table.

rules = yaml.safe_load(open(f"{D}/prometheus/rules.yaml"))
RECORDED = {}
for g in rules["groups"]:
    for r in g["rules"]:
        if "record" in r:
            RECORDED[r["record"]] = r["expr"]

FUNCS_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
                  "bool", "offset"}


def strip_strings(e):
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', e)


def new_labels(e):
    """Labels made by label_replace (its first string argument)."""
    return set(re.findall(r'label_replace\s*\((?:[^"]|"(?:[^"\\]|\\.)*")*?,\s*"([a-zA-Z_]\w*)"', e))


def metric_names(e):
    s = strip_strings(e)
    s = re.sub(r"\{[^{}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    names = set()
    for m in re.finditer(r"(?<![\w:$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", s):
        n, call = m.group(1), m.group(2)
        if call or n in FUNCS_KEYWORDS:
            continue
        names.add(n)
    return names


def labels_of(name, seen=()):
    if name in METRICS:
        return METRICS[name]
    if name in RECORDED and name not in seen:
        out = set(new_labels(RECORDED[name]))
        for n in metric_names(RECORDED[name]):
            out |= labels_of(n, seen + (name,))
        return out
    return set()


def ours(n):
    return n.startswith(("reqacct_", "reqacct:", "process_"))


BUILTIN = {"up": set(), "scrape_duration_seconds": set()}


def check_expr(e, where, errs):
    names = metric_names(e)
    for n in names:
        if ours(n) and n not in METRICS and n not in RECORDED:
            errs.append(f"{where}: {n} is not in README.md's metric table (nor a recording rule)")
    universe = set(TARGET_LABELS) | new_labels(e)
    for n in names:
        universe |= labels_of(n)
    s = strip_strings(e)
    for m in re.finditer(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^{}]*)\}", s):
        n, body = m.group(1), m.group(2)
        used = set(re.findall(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)", body))
        if ours(n):
            ok_labels = labels_of(n) | TARGET_LABELS
        elif n in BUILTIN:
            ok_labels = TARGET_LABELS
        else:
            continue
        bad = used - ok_labels
        if bad:
            errs.append(f"{where}: {n} has no label {sorted(bad)}")
    if any(ours(n) for n in names):
        for m in re.finditer(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", s):
            used = {x.strip() for x in m.group(2).split(",") if x.strip()}
            foreign = any(not ours(n) and n not in BUILTIN for n in names)
            bad = used - universe
            if bad and not foreign:
                errs.append(f"{where}: {m.group(1)} ({', '.join(sorted(bad))}): no metric here has that label")
    return names


errs, used = [], set()
for g in rules["groups"]:
    for r in g["rules"]:
        w = f"rules.yaml {r.get('record') or r.get('alert')}"
        used |= check_expr(r["expr"], w, errs)
        for a in r.get("annotations", {}).values():
            for n in re.findall(r"\b(reqacct[_:][a-z0-9_:]+)", a):
                if n not in METRICS and n not in RECORDED:
                    errs.append(f"{w}: annotation names {n}, not in README.md nor a recording rule")
say(not errs, f"rules.yaml: metric names and labels are README.md's ({len([u for u in used if ours(u)])} names)",
    "; ".join(errs))

dash = json.load(open(f"{D}/grafana/reqacct.json"))
errs, used, ids = [], set(), []
tv = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
if tv.get("datasource", {}).get("type") != "datasource" or tv["datasource"].get("query") != "prometheus":
    errs.append("no Prometheus data source variable named datasource")


def panels(ps):
    for p in ps:
        yield p
        yield from panels(p.get("panels", []))


n_targets = 0
for p in panels(dash.get("panels", [])):
    ids.append(p.get("id"))
    if p.get("type") == "row":
        continue
    if p.get("datasource", {}).get("uid") != "${datasource}":
        errs.append(f"panel {p.get('title')!r}: data source is not ${{datasource}}")
    for t in p.get("targets", []):
        n_targets += 1
        if t.get("datasource", {}).get("uid") != "${datasource}":
            errs.append(f"panel {p.get('title')!r}: a target's data source is not ${{datasource}}")
        used |= check_expr(t.get("expr", ""), f"dashboard panel {p.get('title')!r}", errs)
for v in tv.values():
    q = v.get("query")
    if isinstance(q, dict):
        q = q.get("query", "")
    if v.get("type") == "query":
        used |= check_expr(re.sub(r"^label_values\((.*),\s*\w+\)$", r"\1", q or ""), f"variable {v['name']}", errs)
if len(ids) != len(set(ids)):
    errs.append("panel ids are not unique")
say(not errs and n_targets > 20,
    f"reqacct.json: data source variable, {n_targets} queries, metric names and labels are README.md's",
    "; ".join(errs))

errs = []
blocks = re.findall(r"```promql\n(.*?)```", DOC, re.S)
for i, b in enumerate(blocks):
    check_expr(b, f"docs/deploy.md promql block {i + 1}", errs)
# The image: its runtime stage installs the package of every library the
# built binary links (ldd, dpkg -S), and runs the agent.
dockerfile = read(f"{D}/Dockerfile")
stages = re.split(r"(?m)^FROM ", dockerfile)
runtime = stages[-1] if len(stages) > 2 else ""
pkgs = set(re.findall(r"\b(?:lib|zlib)[a-z0-9.+-]+", " ".join(re.findall(r"apt-get install[^&]*", runtime.replace("\\\n", " ")))))
missing = []
binary = ".output/reqacct"
if os.path.exists(binary):
    libs = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    direct = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True).stdout
    for needed in re.findall(r"Shared library: \[([^\]]+)\]", direct):
        m = re.search(re.escape(needed) + r" => (\S+)", libs)
        if not m or needed.startswith(("libc.so", "libm.so")):
            continue
        pkg = ""
        for path in (m.group(1), os.path.realpath(m.group(1))):	# merged /usr: either may be dpkg's
            for alt in (path, path.replace("/usr/lib/", "/lib/", 1)):
                pkg = pkg or subprocess.run(["dpkg", "-S", alt], capture_output=True, text=True).stdout.split(":")[0]
        if pkg not in pkgs:
            missing.append(f"{needed} ({pkg or 'no package owns it'})")
    say(not missing and pkgs, f"Dockerfile: the runtime stage installs the package of every library reqacct links ({len(pkgs)})",
        ", ".join(missing))
else:
    print("skip  Dockerfile libraries: .output/reqacct not built")
say("ENTRYPOINT [\"/usr/local/bin/reqacct\"]" in runtime and "COPY --from=build /src/.output/reqacct /usr/local/bin/reqacct" in runtime,
    "Dockerfile: /usr/local/bin/reqacct from the build stage is the entry point")

say(blocks and not errs, f"docs/deploy.md: {len(blocks)} PromQL examples use README.md's metrics", "; ".join(errs))

# Every dashboard query and docs example as a recording rule, for promtool
# to parse (Grafana's variables replaced by values).
exprs = [t["expr"] for p in panels(dash.get("panels", [])) for t in p.get("targets", [])]
exprs += [b.strip() for b in blocks]
subst = [("$__rate_interval", "1m"), ("$instance", ".*")]
out = []
for i, e in enumerate(exprs):
    for a, b in subst:
        e = e.replace(a, b)
    out.append({"record": f"check:expr_{i}", "expr": e})
yaml.safe_dump({"groups": [{"name": "dashboard-and-docs", "rules": out}]},
               open(os.environ["EXPRS_OUT"], "w"), sort_keys=False)
EOF
	EXPRS_OUT=$tmp/exprs.yaml "$PY" "$tmp/check.py" >"$tmp/py.out" 2>&1
	rc=$?
	cat "$tmp/py.out"
	p=$(grep -c '^ok    ' "$tmp/py.out")
	f=$(grep -c '^FAIL  ' "$tmp/py.out")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		bad "the Python checks stopped (exit $rc)"
	fi
	if ! [ -s "$tmp/exprs.yaml" ]; then
		:
	elif have promtool; then
		run "promtool parses every dashboard query and docs/deploy.md PromQL example" \
			promtool check rules "$tmp/exprs.yaml"
	else
		skip "PromQL syntax of the dashboard and docs: promtool not installed"
	fi
fi

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
