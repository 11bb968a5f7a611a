#!/bin/sh
# tests/kernel/init.sh - /init of the guest that tests/kernel/qemu-6.1.sh
# boots (busybox, reqacct, bpftool, their libraries; nothing else).
#
# Runs `reqacct agent` with its defaults (every program it attaches by
# default on this kernel), makes TCP traffic on a watched port (busybox
# httpd on 127.0.0.1:6443) and DNS traffic (a canned answer over TCP),
# scrapes /metrics, lists the loaded programs with bpftool, stops the agent
# with SIGTERM and checks that nothing is left attached. Prints
# "REQACCT-KERNEL-TEST: PASS kernel=..." or "... FAIL kernel=...: reasons",
# then powers the guest off. Lines the host script shows start with "RKT ".
export PATH=/bin
T=REQACCT-KERNEL-TEST
fails=
log() { echo "RKT $*"; }
fail() { fails="$fails${fails:+; }$*"; log "check failed: $*"; }
prefix() { sed "s/^/RKT $1 /"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /tmp /run /var/log /www /sys/fs/cgroup /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup || fail "mounting cgroup2"
mount -t bpf bpf /sys/fs/bpf || fail "mounting bpffs"
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
ip link set lo up || fail "bringing up lo"
kver=$(uname -r)
log "kernel $(uname -a)"
[ -e /sys/kernel/btf/vmlinux ] || fail "no /sys/kernel/btf/vmlinux"

finish() {
	if [ -z "$fails" ]; then
		echo "$T: PASS kernel=$kver"
	else
		echo "$T: FAIL kernel=$kver: $fails"
	fi
	sync
	poweroff -f
	sleep 10
	reboot -f
}

# (busybox 1.35's wget -T crashes: timeout(1) instead.)
scrape() {
	timeout 10 wget -q -O "$1" http://127.0.0.1:9464/metrics
}

# A server on a watched port started before the agent (its listener is
# found in /proc), and a DNS server started after it (post_bind).
echo hello > /www/index.html
httpd -f -p 127.0.0.1:6443 -h /www &
httpd_pid=$!

reqacct agent -l 127.0.0.1:9464 > /tmp/agent.log 2>&1 &
agent=$!
up=
i=0
while [ $i -lt 60 ]; do
	kill -0 $agent 2>/dev/null || break
	if scrape /tmp/m0; then up=1; break; fi
	sleep 1
	i=$((i + 1))
done
if [ -z "$up" ]; then
	fail "the agent did not serve /metrics"
	prefix agent: < /tmp/agent.log
	kill -TERM $agent $httpd_pid 2>/dev/null
	finish
fi
log "agent up after ${i}s"

# DNS over TCP (busybox has no DNS server): a canned answer to one query
# for reqacct.test A, id 0x1234, each message after its 2-byte length.
q='\000\036\022\064\001\000\000\001\000\000\000\000\000\000\007reqacct\004test\000\000\001\000\001'
a='\000\056\022\064\201\200\000\001\000\001\000\000\000\000\007reqacct\004test\000\000\001\000\001'
a="$a"'\300\014\000\001\000\001\000\000\000\074\000\004\177\000\000\001'
printf '#!/bin/sh\ndd bs=32 count=1 of=/dev/null 2>/dev/null\nprintf '"'%s'"'\n' "$a" > /bin/dnsreply
chmod 755 /bin/dnsreply
nc -l -p 53 -e /bin/dnsreply &
dns_pid=$!
sleep 1
n=0
for i in 1 2 3 4 5; do
	timeout 10 wget -q -O /dev/null http://127.0.0.1:6443/index.html && n=$((n + 1))
done
log "5 HTTP requests to 127.0.0.1:6443, $n answered"
{ printf "$q"; sleep 2; } | timeout 10 nc 127.0.0.1 53 > /tmp/dns.out
log "DNS over TCP to 127.0.0.1:53: $(wc -c < /tmp/dns.out) bytes answered (48 expected)"
sleep 2

log "programs loaded (bpftool prog show):"
bpftool prog show | grep ' name ' | sed 's/^[0-9]*: *//; s/  *tag .*//' | prefix prog:
log "links (bpftool link show):"
bpftool link show | grep -E '^[0-9]+:|prog' | prefix link:
log "cgroup attachments (bpftool cgroup tree):"
bpftool cgroup tree /sys/fs/cgroup | prefix cgroup:

if scrape /tmp/m1; then
	grep '^reqacct_build_info' /tmp/m1 | prefix metric:
	grep '^reqacct_tcp_bytes_total' /tmp/m1 | prefix metric:
	grep '^reqacct_dns_\(queries\|responses\)_total' /tmp/m1 | prefix metric:
	grep -q '^reqacct_build_info{' /tmp/m1 || fail "no reqacct_build_info"
	grep '^reqacct_tcp_bytes_total{' /tmp/m1 | grep 'port="6443"' |
		grep -q ' [1-9][0-9]*$' || fail "no reqacct_tcp_bytes_total for port 6443"
	grep -q '^reqacct_dns_queries_total{role="client"' /tmp/m1 ||
		fail "no reqacct_dns_queries_total for the client"
	grep -q '^reqacct_dns_responses_total{role="client"' /tmp/m1 ||
		fail "no reqacct_dns_responses_total for the client"
else
	fail "second scrape of /metrics"
fi

kill -TERM $agent
rc=
i=0
while [ $i -lt 20 ]; do
	if ! kill -0 $agent 2>/dev/null; then wait $agent; rc=$?; break; fi
	sleep 1
	i=$((i + 1))
done
[ -n "$rc" ] || { kill -KILL $agent; fail "the agent did not stop on SIGTERM"; }
[ "$rc" = 0 ] || fail "the agent exited with $rc after SIGTERM"
prefix agent: < /tmp/agent.log
left=$(bpftool prog show | grep -c ' name ra_')
[ "$left" = 0 ] || fail "$left reqacct programs still loaded after SIGTERM"

# Not a check: what --hook tracepoint (Linux 6.3+) says on this kernel.
timeout 30 reqacct agent --hook tracepoint -l 127.0.0.1:9465 > /tmp/tp.log 2>&1 &
tp=$!
sleep 3
kill -TERM $tp 2>/dev/null
wait $tp
log "for information, --hook tracepoint exited with $?:"
tail -5 /tmp/tp.log | prefix tracepoint-hook:

kill -TERM $httpd_pid $dns_pid 2>/dev/null
finish
