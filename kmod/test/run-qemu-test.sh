#!/usr/bin/env bash
# Builds rtbackup.ko against Debian 12's headers for a pinned kernel ABI, boots that same Debian kernel
# under qemu (TCG, no network) with a busybox initramfs that runs guest-init.sh, and leaves the raw record
# files, the guest log and dmesg in OUTDIR/guest. Checking them is the Java test's job
# (io.rtbackup.kmod.KmodQemuTest); this script fails only when the guest did not run to the end.
#
# usage: run-qemu-test.sh OUTDIR [JAVA_BIN CLASSPATH]
#   with JAVA_BIN and CLASSPATH the guest also runs the agent's KmodDump against the device, chrooted
#   into the host's root shared read-only over 9p.
# env: RTB_KERNEL_ABI (default: test/kernel-abi), RTB_KMOD_CACHE (default: ~/.cache/rtbackup-kmod),
#      RTB_QEMU_TIMEOUT (seconds, default 170)
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
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# ---- the kernel ABI: pinned; if Debian no longer serves it, the current one (headers and image alike) ----
abi=${RTB_KERNEL_ABI:-$(tr -d '[:space:]' < "$here/kernel-abi")}
headers=/usr/src/linux-headers-$abi
if [ ! -d "$headers" ]; then
	apt_install "linux-headers-$abi" || {
		cur=$(apt-cache show linux-headers-amd64 | sed -n 's/^Depends: linux-headers-\([^ ]*\) .*/\1/p' | head -n1)
		log "linux-headers-$abi is not available; using the current Debian 12 ABI $cur"
		abi=$cur
		headers=/usr/src/linux-headers-$abi
		[ -d "$headers" ] || apt_install "linux-headers-$abi"
	}
fi
log "kernel ABI $abi"

# ---- the matching kernel image: downloaded and unpacked, never installed ----
cache=${RTB_KMOD_CACHE:-${HOME:-/root}/.cache/rtbackup-kmod}/$abi
mods=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p)
if [ ! -f "$cache/ready" ]; then
	rm -rf "$cache" && mkdir -p "$cache/dl" "$cache/root"
	[ -n "$apt_updated" ] || { apt-get update -q >/dev/null; apt_updated=1; }
	log "apt-get download linux-image-$abi"
	(cd "$cache/dl" && apt-get download -q -o APT::Sandbox::User=root "linux-image-$abi" >/dev/null)
	dpkg-deb --fsys-tarfile "$cache"/dl/linux-image-"$abi"_*.deb |
		tar -x -C "$cache/root" --wildcards "./boot/vmlinuz-$abi" './lib/modules/*/kernel/drivers/virtio/*' \
			'./lib/modules/*/kernel/fs/9p/*' './lib/modules/*/kernel/net/9p/*' \
			'./lib/modules/*/kernel/fs/netfs/*' './lib/modules/*/kernel/fs/fscache/*'
	rm -rf "$cache/dl"
	touch "$cache/ready"
fi
vmlinuz=$cache/root/boot/vmlinuz-$abi

# ---- build the module (out of the source tree) and the guest tool ----
build=$out/build
rm -rf "$build" && mkdir -p "$build/kmod" "$build/initramfs"/{bin,lib/modules,proc,sys,dev,tmp,w,x,out,host}
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
for m in "${mods[@]}"; do
	f=$(find "$cache/root/lib/modules" -name "$m.ko" | head -n1)
	[ -n "$f" ] || { log "module $m.ko missing from linux-image-$abi"; exit 1; }
	cp "$f" "$ir/lib/modules/"
done
cp "$here/guest-init.sh" "$ir/init"
chmod 755 "$ir/init"
(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) > "$build/initramfs.cpio.gz"

# ---- run ----
guest=$out/guest
rm -rf "$guest" && mkdir -p "$guest"
if [ -n "$java_bin" ]; then
	cat > "$guest/java-cmd" <<JAVA
JAVA_BIN='$java_bin'
JAVA_CP='$classpath'
JAVA
fi
qemu_args=(
	-machine q35 -accel tcg -cpu max -smp 2 -m 2048
	-nographic -nic none -no-reboot
	-kernel "$vmlinuz" -initrd "$build/initramfs.cpio.gz"
	-append "console=ttyS0 panic=-1 quiet loglevel=4 rdinit=/init"
	-virtfs "local,path=$guest,mount_tag=out,security_model=none"
)
if [ -n "$java_bin" ]; then
	qemu_args+=(-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on")
fi
log "booting $abi under qemu (TCG)"
start=$(date +%s)
timeout "${RTB_QEMU_TIMEOUT:-170}" qemu-system-x86_64 "${qemu_args[@]}" < /dev/null > "$out/console.log" 2>&1 || {
	log "qemu failed or timed out (exit $?); console:"; tail -n 40 "$out/console.log" >&2; exit 1; }
log "guest ran $(( $(date +%s) - start )) s"
if ! grep -q GUEST-DONE "$guest/guest.log" 2>/dev/null; then
	log "the guest did not finish its script; console and guest log:"
	tail -n 40 "$out/console.log" >&2
	tail -n 40 "$guest/guest.log" >&2 2>/dev/null || true
	exit 1
fi
log "done: $guest"
