#!/bin/sh
# /init of the qemu test guest: loads rtbackup.ko, runs the scripted file operations, drains the
# device into /out (a 9p share of the host's output directory), runs the agent on the module against
# the host's broker, worker and rsync daemon (when the host prepared /out/e2e) and powers off. The host
# side (kmod/test/run-qemu-test.sh, then the Java test) checks the records and the replica; this script
# only records.
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do
	insmod /lib/modules/$m.ko || echo "GUEST: insmod $m failed"
done
mkdir -p /out /host
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out /out || { echo "GUEST: no /out share"; poweroff -f; }
exec >/out/guest.log 2>&1
set -x
echo "kernel $(uname -r)"
# qemu's user-mode network: the host's loopback services are at 10.0.2.2
ip link set lo up
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2 || echo "GUEST: no network"

step() { echo "STEP $* at $(cut -d" " -f1 /proc/uptime)"; }
fail() { echo "GUEST-FAIL $*"; }

# The host's root, read-only over 9p, as a chroot for the JVM (java and the classpath are the host's),
# with $1 bind-mounted at /mnt. Java's scratch space (JNA unpacks its native library there) lives under
# /dev: a tmpfs over /host/tmp would hide the classpath when the repository itself sits under /tmp (as a
# CI clone may).
JAVA_OPTS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -XX:-UsePerfData -Djava.io.tmpdir=/dev/rtb-tmp -Djna.tmpdir=/dev/rtb-tmp"
host_chroot() {
	. /out/java-cmd
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /host || fail mount-host
	mkdir -p /dev/rtb-tmp && mount -t tmpfs tmpfs /dev/rtb-tmp
	mount --bind /dev /host/dev
	mount -t proc proc /host/proc
	mount --bind "$1" /host/mnt
}
host_unchroot() {
	umount /host/mnt; umount /host/proc; umount /host/dev; umount /dev/rtb-tmp; umount /host
}

# ---- overhead: the same workload with the module not loaded, then loaded and enabled, alternating ----
step bench
mkdir -p /bench && mount -t tmpfs tmpfs /bench
for run in 1 2 3; do
	rtbctl bench /bench 2000 unloaded
	# the agent's default capture: a fanotify group on the whole file system, as FanotifySource sets it up
	rtbctl fanotify-bench /bench 2000 fanotify || fail fanotify-bench
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
	# the agent sees the watched tree at /mnt inside its chroot: records must use that view
	host_chroot /w/root
	chroot /host "$JAVA_BIN" $JAVA_OPTS -Xmx256m -cp "$JAVA_CP" io.rtbackup.agent.capture.kmod.KmodDump --root /mnt --max-events 4 --timeout-ms 60000 \
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
	host_unchroot
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

# ---- end to end: the agent (rtb agent, capture.source=kmod) replicates to the host's rsync daemon ----
# The host (KmodQemuTest) runs the broker, the worker and the daemon and wrote e2e/agent.properties and
# e2e/env; it answers each checkpoint (the source tree in e2e/cpN.tar: tar keeps symlink times and hard
# links, which busybox cp does not) with e2e/cpN.verdict once the replica equals it or its wait ran out.
AGENT=
checkpoint() {
	tar -cf "/out/e2e/$1.tar" -C /e2e/src . || fail "tar-$1"
	touch "/out/e2e/$1.ready"
	i=0
	while [ ! -f "/out/e2e/$1.verdict" ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i+1)); done
	echo "checkpoint $1: $(cat "/out/e2e/$1.verdict" 2>/dev/null || echo no verdict)"
}
# the host answers e2e/$1.request with e2e/$1.answer (pause, untouched, resume: see GuestHost)
ask() {
	touch "/out/e2e/$1.request"
	i=0
	while [ ! -f "/out/e2e/$1.answer" ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i+1)); done
	echo "ask $1: $(cat "/out/e2e/$1.answer" 2>/dev/null || echo no answer)"
}
if [ -f /out/e2e/agent.properties ] && [ -f /out/java-cmd ]; then
	step e2e
	. /out/e2e/env
	# a 64 KiB ring: room for what a live reader sees, small enough for the burst below to overflow it
	insmod /rtbackup.ko ring_size=65536 || fail insmod-e2e
	mkdir -p /e2e /dest && mount -t tmpfs tmpfs /e2e && mkdir -p /e2e/src /e2e/state && chmod 700 /e2e/state
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro dest /dest || fail mount-dest
	cp /out/e2e/agent.properties /e2e/agent.properties
	host_chroot /e2e
	export RSYNC_PASSWORD_D1
	# the host's PATH for what runs in the chroot (the agent starts rsync and asks dpkg which package owns it)
	HOST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	# dpkg -S reads a thousand files of the host's dpkg database; cold over 9p under emulation that can pass the
	# agent's 20 s limit for it, so the database is read once up front (cache=loose keeps it)
	step e2e-warm-dpkg
	cat /host/var/lib/dpkg/status /host/var/lib/dpkg/info/*.list > /dev/null
	step e2e-agent-start
	start_agent() {
		env PATH=$HOST_PATH chroot /host "$JAVA_BIN" $JAVA_OPTS -Xmx320m -cp "$JAVA_CP" io.rtbackup.cli.Rtb agent \
			--config /mnt/agent.properties --topic-prefix "$TOPIC_PREFIX" >> /out/e2e/agent.log 2>&1 &
		AGENT=$!
		i=0
		while ! grep -q 'agent up' /out/e2e/agent.log && kill -0 $AGENT 2>/dev/null && [ $i -lt 3000 ]; do
			sleep 0.1; i=$((i+1))
		done
	}
	start_agent
	if ! grep -q 'agent up' /out/e2e/agent.log && ! kill -0 $AGENT 2>/dev/null; then
		echo "GUEST: the agent ended during start-up; starting it once more"
		start_agent
	fi
	step e2e-agent-up
fi
if [ -n "$AGENT" ] && ! grep -q 'agent up' /out/e2e/agent.log; then
	fail agent-up
	kill -9 $AGENT; wait $AGENT
	host_unchroot; umount /dest; rmmod rtbackup
elif [ -n "$AGENT" ]; then
	S=/e2e/src
	NL=$(printf 'new\nline')
	HB=$(printf 'high\200\201\376\377')
	echo hello > $S/a.txt
	mkdir -p $S/d1/d2 $S/other
	echo data > $S/d1/f
	echo deep > $S/d1/d2/deep
	seq 1 3000 > $S/big
	truncate -s 1000 $S/big
	echo more >> $S/a.txt
	mv $S/a.txt $S/d1/a-renamed.txt
	mv $S/d1/f $S/other/f-moved
	mv $S/d1/d2 $S/other/d2
	mkdir $S/gone && rmdir $S/gone
	ln $S/other/f-moved $S/hard
	ln -s d1/a-renamed.txt $S/sym
	chmod 600 $S/hard
	chmod 750 $S/other
	echo tmp > $S/deleteme && rm $S/deleteme
	echo n > "$S/$NL"
	echo d > $S/-dash
	echo h > "$S/$HB"
	mkdir "$S/dir $NL" && echo x > "$S/dir $NL/-in"
	mv $S/-dash "$S/other/$HB-moved"
	rtbctl latency $S /dest/$REPLICA 10 > /out/e2e/latency.txt || fail latency
	step e2e-checkpoint
	checkpoint cp1

	# the reader falls behind (the agent is stopped) while a burst overflows the ring: a rescan must follow
	step e2e-overflow
	kill -STOP $AGENT
	mkdir $S/burst
	i=0
	while [ $i -lt 800 ]; do echo $i > $S/burst/f$i; i=$((i+1)); done
	rm $S/hard "$S/$NL"
	mv $S/big $S/burst/big
	kill -CONT $AGENT
	checkpoint cp2

	# the pause switch: the host pauses the root (rtb.control) and the agent switches the module off; the
	# status file reads the counters without the device, which the agent holds open. Changes made while
	# paused must not reach the replica (the host checks it still equals cp2) until the resume catches up.
	step e2e-pause
	ask pause
	echo "paused status: $(cat /sys/module/rtbackup/parameters/status)"
	echo off > $S/off-new
	echo changed >> $S/other/f-moved
	rm "$S/dir $NL/-in"
	echo h > "$S/off $NL $HB"
	sleep 1
	echo "paused status after the changes: $(cat /sys/module/rtbackup/parameters/status)"
	ask untouched
	ask resume
	echo "resumed status: $(cat /sys/module/rtbackup/parameters/status)"
	checkpoint cp3
	step e2e-stop
	kill -TERM $AGENT
	wait $AGENT
	echo "agent exit $?"
	# the agent's close switched capture off: no mark may remain
	echo "after the agent: $(rtbctl counters)"
	host_unchroot
	umount /dest
	rmmod rtbackup || fail rmmod-e2e
fi

step done
dmesg > /out/dmesg.txt
echo GUEST-DONE
sync
umount /out
poweroff -f
