#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench: the cloud image (scripts/build-cloud-image.sh) from
# `vmctl create --wait=ssh` to SSH ready, and how long after sshd starts
# answering vmctl reports it ready; then, on the running guest, how long
# after sshd accepts the VM's key `vmctl wait --for ssh` reports it ready
# (target: under 0.5 s).  TCG; slow.
#   BENCH_CLOUD_RUNS (default 1), BENCH_SSH_ROUNDS (default 7)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
: "${VMCTL:=$ROOT/vmctl}"
runs=${BENCH_CLOUD_RUNS:-1}
img=${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/cloud
"$ROOT/scripts/build-cloud-image.sh" "$img" >/dev/null 2>&1 ||
	{ echo "cloud bench: no cloud image (needs root and debootstrap)"; exit 0; }
tmp=$(mktemp -d)
export VMCTL_STATE_DIR=$tmp/state VMCTL_TMUX_SOCKET=vmctl-bench-$$
trap 'tmux -L "$VMCTL_TMUX_SOCKET" kill-server 2>/dev/null || true; rm -rf "$tmp"' EXIT
sum=$(cut -d' ' -f1 "$img/SHA256SUMS")

printf '%-5s %18s %24s\n' run "create->ssh ready" "sshd up->vmctl ready"
for i in $(seq "$runs"); do
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	cat > "$tmp/spec.yaml" <<YAML
name: bench$i
cpus: 2
memory: 1G
accel: tcg
disk: {image: $img/debian-12-test.qcow2, sha256: $sum}
kernel: {image: $img/vmlinuz, initrd: $img/initrd.img,
         cmdline: "root=LABEL=root rw console=ttyS0 no_timer_check"}
network: {ssh_port: $port, ssh_listen: 127.0.0.1}
vnc: false
YAML
	# The prober notes when sshd first greets on the forwarded port.
	python3 - "$port" "$tmp/banner" <<'PY' &
import socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.settimeout(1)
        if s.recv(4) == b"SSH-":
            open(out, "w").write("%.6f" % time.time())
            break
    except OSError:
        pass
    time.sleep(0.02)
PY
	prober=$!
	t0=$(date +%s.%N)
	"$VMCTL" create --wait=ssh,900 "$tmp/spec.yaml" >/dev/null 2>&1
	t2=$(date +%s.%N)
	wait "$prober" 2>/dev/null || true
	t1=$(cat "$tmp/banner")
	awk -v i="$i" -v t0="$t0" -v t1="$t1" -v t2="$t2" \
		'BEGIN { printf "%-5s %16.1f s %22.3f s\n", i, t2 - t0, t2 - t1 }'
	[ "$i" = "$runs" ] || "$VMCTL" destroy --force "bench$i" >/dev/null
done

# Key accepted -> vmctl ready, on the running guest: in interleaved
# rounds, `ssh -N` with the VM's own ssh-config (LogLevel VERBOSE: the
# moment it says "Authenticated to", sshd has accepted the key), and
# `vmctl wait --for ssh`; the difference of the medians is how long after
# sshd accepts the key vmctl says ready (target: under 0.5 s).
vm=bench$runs
"$VMCTL" ssh-config "$vm" > "$tmp/ssh_config"
python3 - "$VMCTL" "$vm" "$tmp/ssh_config" "${BENCH_SSH_ROUNDS:-7}" <<'PY'
import statistics, subprocess, sys, time
vmctl, vm, conf, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
host = vm
acc, ready = [], []
for _ in range(rounds):
    t0 = time.monotonic()
    p = subprocess.Popen(["ssh", "-F", conf, "-o", "LogLevel=VERBOSE", "-N",
                          host], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
    for line in p.stderr:
        if line.startswith("Authenticated to"):
            acc.append(time.monotonic() - t0)
            break
    p.kill(); p.wait()
    t0 = time.monotonic()
    r = subprocess.run([vmctl, "wait", vm, "--for", "ssh", "--timeout", "60"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if r.returncode == 0:
        ready.append(time.monotonic() - t0)
if not acc or not ready:
    print("key accepted -> ready: no figures (ssh failed)")
    sys.exit(0)
a, b = statistics.median(acc), statistics.median(ready)
print("ssh -N until key accepted: median %.3f s (%.3f-%.3f), %d rounds"
      % (a, min(acc), max(acc), len(acc)))
print("vmctl wait --for ssh:      median %.3f s (%.3f-%.3f), %d rounds"
      % (b, min(ready), max(ready), len(ready)))
print("key accepted -> vmctl ready: %.3f s (target under 0.5 s)" % (b - a))
PY
"$VMCTL" destroy --force "$vm" >/dev/null
