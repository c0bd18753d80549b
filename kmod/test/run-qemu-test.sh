#!/usr/bin/env bash
# Builds rtbackup.ko against Debian 12's headers for one kernel ABI, boots that same Debian kernel under qemu
# (TCG, user-mode network: the host is 10.0.2.2) with a busybox initramfs that runs guest-init.sh, and leaves
# the raw record files, the guest log and dmesg in OUTDIR/guest. Checking them is the Java test's job
# (io.rtbackup.kmod.KmodQemuTest); this script fails only when the guest did not run to the end.
#
# usage: run-qemu-test.sh OUTDIR [JAVA_BIN CLASSPATH]
#   with JAVA_BIN and CLASSPATH the guest also runs the agent's KmodDump against the device, chrooted
#   into the host's root shared read-only over 9p; with OUTDIR/guest/e2e/agent.properties present (written
#   by the Java test before it calls this script) it also runs the agent itself (rtb agent) on the module.
# env: RTB_KERNEL_ABI (default: the first line of test/kernel-abi), RTB_KMOD_CACHE (default:
#      ~/.cache/rtbackup-kmod), RTB_QEMU_TIMEOUT (seconds, default 900), RTB_E2E_DEST (a host directory the
#      guest sees read-only at /dest: where the agent's replica lands, to time change -> replica)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
kmod=$(cd "$here/.." && pwd)
out=${1:?usage: run-qemu-test.sh OUTDIR [JAVA_BIN CLASSPATH]}
java_bin=${2:-}
classpath=${3:-}
mkdir -p "$out"
out=$(cd "$out" && pwd)

log() { echo "[kmod-qemu] $*" >&2; }

# ---- tools (the project's CI installs the same list; installing here keeps a fresh machine working) ----
apt_updated=
apt_install() {
	if [ -z "$apt_updated" ]; then
		log "apt-get update"
		apt-get update -q >/dev/null
		apt_updated=1
	fi
	log "apt-get install $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
command -v cpio >/dev/null || missing+=(cpio)
command -v modinfo >/dev/null || missing+=(kmod)
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
command -v make >/dev/null || missing+=(make)
command -v xz >/dev/null || missing+=(xz-utils)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# ---- the kernel ABI: pinned; if Debian no longer serves it, the newest of the same series ----
# (security updates retire ABIs; a 6.12 pin moves to a newer 6.12, never to another series)
abi=${RTB_KERNEL_ABI:-$(sed -n '1{s/[[:space:]]//g;p}' "$here/kernel-abi")}
available() { apt-cache show "linux-headers-$1" >/dev/null 2>&1 && apt-cache show "linux-image-$1" >/dev/null 2>&1; }
# the other ABIs of abi's series, newest first: 6.1.0-N-amd64 for 6.1.0-56-amd64, 6.12.N+deb12-amd64 for 6.12.*
same_series() {
	local pre suf c mid
	case $1 in
	*.0-*-amd64) pre=${1%%.0-*}.0- suf=-amd64 ;;
	*+deb*-amd64) pre=${1%%+*} suf=+${1#*+}; pre=${pre%.*}. ;;
	*) return 0 ;;
	esac
	for c in $(apt-cache pkgnames linux-headers-); do
		c=${c#linux-headers-}
		mid=${c#"$pre"}; [ "$mid" != "$c" ] || continue
		mid=${mid%"$suf"}
		if [[ $c == "$pre$mid$suf" && $mid =~ ^[0-9]+$ ]]; then echo "$c"; fi
	done | sort -rV
}
headers=/usr/src/linux-headers-$abi
if [ ! -d "$headers" ] || [ ! -f "${RTB_KMOD_CACHE:-${HOME:-/root}/.cache/rtbackup-kmod}/$abi/ready-v2" ]; then
	[ -n "$apt_updated" ] || { log "apt-get update"; apt-get update -q >/dev/null; apt_updated=1; }
	if ! available "$abi"; then
		cur=
		for cand in $(same_series "$abi"); do
			if available "$cand"; then cur=$cand; break; fi
		done
		if [ -z "$cur" ]; then
			log "FAIL: kernel $abi: Debian serves neither linux-headers-$abi and linux-image-$abi nor another kernel of its series; update test/kernel-abi"
			exit 3
		fi
		log "kernel $abi is no longer served; using $cur, the newest of its series (update test/kernel-abi)"
		abi=$cur
		headers=/usr/src/linux-headers-$abi
	fi
	if [ ! -d "$headers" ]; then
		apt_install "linux-headers-$abi" || { log "FAIL: kernel $abi: cannot install linux-headers-$abi"; exit 3; }
	fi
fi
log "kernel ABI $abi"

# ---- the matching kernel image: downloaded and unpacked, never installed ----
cache=${RTB_KMOD_CACHE:-${HOME:-/root}/.cache/rtbackup-kmod}/$abi
# what the guest needs of the image's modules: 9p (the shares) and virtio-net (the network), with whatever
# they depend on in this kernel (resolved below from the modules themselves: 6.12 builds virtio in, 6.1 not)
wanted=(virtio_pci 9pnet_virtio 9p virtio_net)
if [ ! -f "$cache/ready-v2" ]; then
	rm -rf "$cache" && mkdir -p "$cache/dl" "$cache/root"
	log "apt-get download linux-image-$abi"
	(cd "$cache/dl" && apt-get download -q -o APT::Sandbox::User=root "linux-image-$abi" >/dev/null) ||
		{ log "FAIL: kernel $abi: cannot download linux-image-$abi"; exit 3; }
	# the kernel, modules.builtin and the module directories the guest may need (fscache is a module of its
	# own in 6.1 and part of netfs in 6.12: the list comes from the archive, not from a fixed set of names)
	dpkg-deb --fsys-tarfile "$cache"/dl/linux-image-"$abi"_*.deb > "$cache/dl/image.tar"
	abi_re=$(printf '%s' "$abi" | sed 's/[.+]/\\&/g')
	tar -tf "$cache/dl/image.tar" | grep -E "^\./boot/vmlinuz-$abi_re\$|/modules\.builtin\$|/kernel/(drivers/virtio|fs/9p|net/9p|fs/netfs|fs/fscache)/[^/]+\.ko|/kernel/(drivers/net/(virtio_net|net_failover)|net/core/failover)\.ko" > "$cache/dl/members"
	tar -xf "$cache/dl/image.tar" -C "$cache/root" -T "$cache/dl/members"
	find "$cache/root/lib/modules" -name '*.ko.xz' -exec xz -d {} +
	rm -rf "$cache/dl"
	[ -f "$cache/root/boot/vmlinuz-$abi" ] || { log "FAIL: kernel $abi: no vmlinuz-$abi in linux-image-$abi"; exit 3; }
	touch "$cache/ready-v2"
fi
vmlinuz=$cache/root/boot/vmlinuz-$abi
moddir=$(echo "$cache"/root/lib/modules/*)

# the load order: each module after what it depends on; built-in ones are skipped
load_order=()
add_module() {
	local m=$1 f dep
	case " ${load_order[*]} " in *" $m "*) return ;; esac
	if grep -q "/$m.ko" "$moddir/modules.builtin" 2>/dev/null; then return; fi
	f=$(find "$moddir/kernel" -name "$m.ko" | head -n1)
	[ -n "$f" ] || { log "FAIL: kernel $abi: module $m.ko is neither in linux-image-$abi nor built in"; exit 3; }
	for dep in $(modinfo -F depends "$f" | tr ',' ' '); do add_module "${dep//-/_}"; done
	load_order+=("$m")
}
for m in "${wanted[@]}"; do add_module "$m"; done

# ---- build the module (out of the source tree) and the guest tool ----
build=$out/build
rm -rf "$build" && mkdir -p "$build/kmod" "$build/initramfs"/{bin,lib/modules,proc,sys,dev,tmp,w,x,out,host,dest}
cp "$kmod"/*.c "$kmod"/*.h "$kmod"/Kbuild "$kmod"/Makefile "$build/kmod/"
log "building rtbackup.ko against $headers"
make -s -C "$build/kmod" KVER="$abi" KDIR="$headers" > "$build/kbuild.log" 2>&1 || { cat "$build/kbuild.log" >&2; exit 1; }
if grep -E 'warning:|error:' "$build/kbuild.log" >&2; then log "the module build has warnings"; exit 1; fi
mkdir -p "$build/rtbctl"
gcc -O2 -Wall -Werror -static -I"$kmod" -o "$build/initramfs/bin/rtbctl" "$here/rtbctl.c"

# ---- initramfs: busybox, rtbctl, the module, the 9p/virtio modules of the same kernel, /init ----
ir=$build/initramfs
cp /bin/busybox "$ir/bin/busybox"
ln -s busybox "$ir/bin/sh"
cp "$build/kmod/rtbackup.ko" "$ir/rtbackup.ko"
for m in "${load_order[@]}"; do
	cp "$(find "$moddir/kernel" -name "$m.ko" | head -n1)" "$ir/lib/modules/"
done
echo "${load_order[*]}" > "$ir/lib/modules/order"
echo "$abi" > "$ir/kernel-abi"
cp "$here/guest-init.sh" "$ir/init"
chmod 755 "$ir/init"
(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) > "$build/initramfs.cpio.gz"

# ---- run ----
guest=$out/guest
mkdir -p "$guest"
# keep what the Java test prepared for this run (e2e/), drop the files of an earlier run
find "$guest" -mindepth 1 -maxdepth 1 ! -name e2e -exec rm -rf {} +
if [ -n "$java_bin" ]; then
	cat > "$guest/java-cmd" <<JAVA
JAVA_BIN='$java_bin'
JAVA_CP='$classpath'
JAVA
fi
qemu_args=(
	-machine q35 -accel tcg -cpu max -smp 2 -m 2048
	-nographic -nic user,model=virtio-net-pci -no-reboot
	-kernel "$vmlinuz" -initrd "$build/initramfs.cpio.gz"
	-append "console=ttyS0 panic=-1 quiet loglevel=4 rdinit=/init"
	-virtfs "local,path=$guest,mount_tag=out,security_model=none"
)
if [ -n "$java_bin" ]; then
	qemu_args+=(-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on")
fi
if [ -n "${RTB_E2E_DEST:-}" ]; then
	qemu_args+=(-virtfs "local,path=$RTB_E2E_DEST,mount_tag=dest,security_model=none,readonly=on")
fi
log "booting $abi under qemu (TCG)"
start=$(date +%s)
timeout "${RTB_QEMU_TIMEOUT:-900}" qemu-system-x86_64 "${qemu_args[@]}" < /dev/null > "$out/console.log" 2>&1 || {
	log "qemu failed or timed out (exit $?); console:"; tail -n 40 "$out/console.log" >&2; exit 1; }
log "guest ran $(( $(date +%s) - start )) s"
if ! grep -q GUEST-DONE "$guest/guest.log" 2>/dev/null; then
	log "the guest did not finish its script; console and guest log:"
	tail -n 40 "$out/console.log" >&2
	tail -n 40 "$guest/guest.log" >&2 2>/dev/null || true
	exit 1
fi
log "done: $guest"
