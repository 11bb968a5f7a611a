#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""What the cgroups are, from the node only: a kubelet-shaped cgroup tree
under the test's cgroup (the systemd driver's burstable pod slice with a
containerd scope, the cgroupfs driver's besteffort pod with a bare CRI-O
id, and a host service), a kubelet-shaped log directory naming the pods,
and a client in each cgroup talking to a watched port. Each cgroup the TCP
families name gets reqacct_cgroup_info with its kind, pod UID, namespace,
pod name, container ID, QoS class, runtime, or unit; a pod the log
directory does not name is "(unknown)", not missing; the container name comes
from the kubelet's link in /var/log/containers (the one without a link:
"(unknown)")."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ralib import Agent, harness, require_root, tmpdir, wait_port  # noqa: E402

PORT, AGENT_PORT = 18520, 19560
UID_A, UID_B = "1b2c3d4e-5f60-4a1b-9c2d-3e4f5a6b7c8d", "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
CID_A, CID_B = "a" * 64, "b" * 64
SHAPES = {
    # relative to the test's cgroup: (expected labels)
    "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID_A.replace("-", "_") +
    ".slice/cri-containerd-" + CID_A + ".scope":
        dict(kind="container", pod_uid=UID_A, namespace="kube-system", pod="node-agent-x7k2p",
             container="agent", container_id=CID_A, qos="burstable", runtime="containerd", unit=""),
    "kubepods/besteffort/pod" + UID_B + "/" + CID_B:
        dict(kind="container", pod_uid=UID_B, namespace="(unknown)", pod="(unknown)", container="(unknown)",
             container_id=CID_B, qos="besteffort", runtime="unknown", unit=""),
    "system.slice/reqacct-test-fake.service":
        dict(kind="host", pod_uid="", namespace="", pod="", container="", container_id="", qos="", runtime="",
             unit="reqacct-test-fake.service"),
}


def main():
    require_root()
    with harness("srv") as (chk, procs, cg), tmpdir() as d:
        logs = os.path.join(d, "pods", f"kube-system_node-agent-x7k2p_{UID_A}", "agent")
        os.makedirs(logs)
        open(os.path.join(logs, "0.log"), "w").close()
        # The kubelet's link: /var/log/containers/<pod>_<namespace>_<container>-<id>.log
        os.makedirs(os.path.join(d, "containers"))
        os.symlink(os.path.join(logs, "0.log"),
                   os.path.join(d, "containers", f"node-agent-x7k2p_kube-system_agent-{CID_A}.log"))
        for rel in SHAPES:
            os.makedirs(cg.path(rel))
        procs.start([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(PORT)], cg.path("srv"),
                    cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(PORT)
        agent = Agent(procs, ["--port", str(PORT), "--pod-logs-dir", os.path.join(d, "pods")], AGENT_PORT,
                      os.path.join(d, "agent.log"), cg.base)
        for rel in SHAPES:
            procs.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{PORT}/"], cg.path(rel))
        time.sleep(0.5)
        info = {l["cgroup"]: l for n, l, v in agent.samples() if n == "reqacct_cgroup_info"}
        for rel, want in SHAPES.items():
            got = info.get(cg.label(rel), {})
            got = {k: got.get(k) for k in want}
            chk.true(f"{rel.split('/')[-1][:40]}: {want['kind']} {want['pod'] or want['unit']}", got == want,
                     f"\n    got  {got}\n    want {want}")
        chk.true("the test's own cgroup: a host cgroup", info.get(cg.label("srv"), {}).get("kind") == "host",
                 str(info.get(cg.label("srv"))))

if __name__ == "__main__":
    main()
