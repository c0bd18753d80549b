#!/bin/sh
# /init of the qemu test guest: loads rtbackup.ko, runs the scripted file operations, drains the
# device into /out (a 9p share of the host's output directory) and powers off. The host side
# (kmod/test/run-qemu-test.sh, then the Java test) checks the records; this script only records.
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p; do
	insmod /lib/modules/$m.ko || echo "GUEST: insmod $m failed"
done
mkdir -p /out /host
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out /out || { echo "GUEST: no /out share"; poweroff -f; }
exec >/out/guest.log 2>&1
set -x

step() { echo "STEP $* at $(cut -d" " -f1 /proc/uptime)"; }
fail() { echo "GUEST-FAIL $*"; }

# ---- overhead: the same workload with the module not loaded, then loaded and enabled, alternating ----
step bench
mkdir -p /bench && mount -t tmpfs tmpfs /bench
for run in 1 2 3; do
	rtbctl bench /bench 2000 unloaded
	insmod /rtbackup.ko || fail insmod-bench
	rtbctl add-root /bench && rtbctl enable || fail enable-bench
	rtbctl bench /bench 2000 enabled
	rtbctl drain /dev/null >/dev/null
	# hook installed but every op masked out: the cost of fsnotify itself, without message building
	rtbctl mask 0 && rtbctl bench /bench 2000 masked && rtbctl mask 7fe
	rmmod rtbackup || fail rmmod-bench
done

mkdir -p /w /x
mount -t tmpfs tmpfs /w
mount -t tmpfs tmpfs /x
mkdir -p /w/root /w/other

step load
insmod /rtbackup.ko modify_interval_ms=400 || fail insmod
rtbctl version
rtbctl busy-check || fail busy-check
rtbctl add-root /w/root || fail add-root
rtbctl enable || fail enable
rtbctl counters

# ---- phase A: the operations, hostile names included ----
step phaseA
NL=$(printf 'new\nline')
HB=$(printf 'high\200\201\376\377')
LONG=$(printf '%0255d' 7)
echo hello > /w/root/plain.txt
mkdir /w/root/dir
echo s > "/w/root/dir/with space"
echo n > "/w/root/$NL"
echo d > /w/root/-dash
echo h > "/w/root/$HB"
echo l > "/w/root/$LONG"
mv /w/root/plain.txt /w/root/dir/renamed.txt
mv /w/root/-dash /w/other/-dash
echo i > /w/other/incoming
mv /w/other/incoming /w/root/incoming
ln /w/root/dir/renamed.txt /w/root/hardlink
ln -s target /w/root/symlink
chmod 600 /w/root/hardlink
truncate -s 0 "/w/root/$HB"
rtbctl setxattr /w/root/hardlink || fail setxattr
rm /w/root/symlink
mkdir /w/root/gone
rmdir /w/root/gone
echo o > /w/other/outside
echo x > /x/elsewhere
rtbctl slowwrite /w/root/slow 4 300
rtbctl drain /out/phaseA.bin

# ---- phase B: switch off; nothing may be reported and no mark may remain ----
step phaseB
rtbctl disable || fail disable
rtbctl counters
echo x > /w/root/while-off
mkdir /w/root/dir-while-off
rtbctl drain /out/phaseB.bin

# ---- phase C: switch on again ----
step phaseC
rtbctl enable || fail enable2
echo x > /w/root/back-on
rtbctl drain /out/phaseC.bin
rtbctl counters

# ---- the op mask: only CREATE ----
step mask
rtbctl mask 2 || fail mask
echo m > /w/root/masked-create
mkdir /w/root/masked-dir
rtbctl mask 7fe
rtbctl drain /out/mask.bin

# ---- a watched file system can still be unmounted (marks do not pin it), and capture goes on ----
step umount
mkdir -p /u && mount -t tmpfs tmpfs /u && mkdir /u/r
rtbctl add-root /u/r || fail add-root-u
echo u > /u/r/on-u
umount /u || fail umount-watched
echo x > /w/root/after-umount
rtbctl disable
rtbctl enable || fail enable-after-umount
echo y > /w/root/after-reenable
rtbctl drain /out/umount.bin
rtbctl counters


# ---- the Java agent's decoder inside the guest (when the host root is shared) ----
if [ -f /out/java-cmd ]; then
	step java
	. /out/java-cmd
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /host || fail mount-host
	# Java's scratch space (JNA unpacks its native library there) lives under /dev: a tmpfs over /host/tmp
	# would hide the classpath when the repository itself sits under /tmp (as a CI clone may).
	mkdir -p /dev/rtb-tmp && mount -t tmpfs tmpfs /dev/rtb-tmp
	mount --bind /dev /host/dev
	mount -t proc proc /host/proc
	# the agent sees the watched tree at /mnt inside its chroot: records must use that view
	mount --bind /w/root /host/mnt
	chroot /host "$JAVA_BIN" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -Xmx256m -XX:-UsePerfData \
		-Djava.io.tmpdir=/dev/rtb-tmp -Djna.tmpdir=/dev/rtb-tmp -cp "$JAVA_CP" \
		io.rtbackup.agent.capture.kmod.KmodDump --root /mnt --max-events 4 --timeout-ms 60000 \
		> /out/java-dump.txt 2>&1 &
	JAVA_PID=$!
	i=0
	while ! grep -q READY /out/java-dump.txt 2>/dev/null && kill -0 $JAVA_PID 2>/dev/null && [ $i -lt 900 ]; do
		sleep 0.1; i=$((i+1))
	done
	step java-ready
	echo j > /w/root/from-java
	mv /w/root/from-java "/w/root/java $HB"
	mkdir /w/root/java-dir
	wait $JAVA_PID
	echo "java exit $?"
	step java-done
	umount /host/mnt; umount /host/proc; umount /host/dev; umount /dev/rtb-tmp; umount /host
fi
rtbctl add-root /w/root
rtbctl enable

# ---- clean rmmod under load ----
step rmmod-under-load
(i=0; while [ ! -e /tmp/stop ]; do echo $i > /w/root/load-$i; rm -f /w/root/load-$i; i=$((i+1)); done) &
LOAD=$!
sleep 1
rmmod rtbackup || fail rmmod
touch /tmp/stop
wait $LOAD

# ---- overflow: a 4 KiB ring and a burst of creates without reading ----
step overflow
insmod /rtbackup.ko ring_size=4096 || fail insmod-small
rtbctl add-root /w/root
rtbctl enable
mkdir /w/root/burst
i=0
while [ $i -lt 150 ]; do : > /w/root/burst/f$i; i=$((i+1)); done
rtbctl counters
rtbctl drain /out/overflow1.bin
echo after > /w/root/after-overflow
rtbctl drain /out/overflow2.bin
rtbctl counters

# ---- two writers racing the reader on the tiny ring: every event is delivered or counted ----
step concurrent
mkdir /w/root/c1 /w/root/c2
rtbctl drain /dev/null
# MODIFY is rate-limited per inode (not a fixed count per file): leave it out of this count
rtbctl mask 1a
rtbctl bench /w/root/c1 300 c1 >/dev/null &
W1=$!
rtbctl bench /w/root/c2 300 c2 >/dev/null &
W2=$!
while kill -0 $W1 2>/dev/null || kill -0 $W2 2>/dev/null; do rtbctl drain /out/concurrent.bin >/dev/null; done
wait $W1 $W2
rtbctl drain /out/concurrent.bin
rtbctl counters
rmmod rtbackup || fail rmmod-small

step done
dmesg > /out/dmesg.txt
echo GUEST-DONE
sync
umount /out
poweroff -f
