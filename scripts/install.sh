#!/usr/bin/env bash
# Installs openidd on a server: release binaries (Swift runtime linked in), systemd units, a config
# skeleton and the key directory, with the permissions the daemon expects.
#
#   sudo scripts/install.sh                    # build, then install into / (creates the openidd user)
#   scripts/install.sh --destdir /tmp/stage    # stage into a directory (packaging, tests); no user made
#   scripts/install.sh --no-build --bin DIR    # install binaries already built in DIR
#
# Afterwards: put the keys in /etc/openidd/keys, edit /etc/openidd/config.json, then
#   systemctl daemon-reload && systemctl enable --now openidd.socket openidd-callback.socket openidd.service
set -euo pipefail
cd "$(dirname "$0")/.."

destdir=""
prefix="/usr/local"
build=yes
bin=".build/release"
while [ $# -gt 0 ]; do
    case "$1" in
        --destdir) destdir="$2"; shift 2 ;;
        --prefix) prefix="$2"; shift 2 ;;
        --no-build) build=no; shift ;;
        --bin) bin="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

if [ "$build" = yes ]; then
    # The Swift runtime is linked in, so the server needs only libssl3 and libc, not a Swift toolchain.
    swift build -c release --static-swift-stdlib --product openidd
    swift build -c release --static-swift-stdlib --product openidctl
fi
for binary in openidd openidctl; do
    [ -x "$bin/$binary" ] || { echo "install.sh: $bin/$binary not found; build first or pass --bin" >&2; exit 1; }
done

root="${destdir%/}"
install -d -m 0755 "$root$prefix/bin" "$root/etc/systemd/system" "$root$prefix/share/doc/openidd"
install -m 0755 "$bin/openidd" "$bin/openidctl" "$root$prefix/bin/"
# Unit files name /usr/local/bin; follow --prefix.
for unit in systemd/openidd.service systemd/openidd.socket systemd/openidd-callback.socket; do
    sed "s#/usr/local/#$prefix/#g" "$unit" > "$root/etc/systemd/system/$(basename "$unit")"
    chmod 0644 "$root/etc/systemd/system/$(basename "$unit")"
done
install -m 0644 README.md config.example.json "$root$prefix/share/doc/openidd/"

# The openidd user owns the state; apps that may use the IPC socket join the openidd group.
if [ -z "$destdir" ] && ! getent passwd openidd >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/openidd --shell /usr/sbin/nologin openidd
fi
group_owner() { if [ -z "$destdir" ]; then chgrp openidd "$@"; fi; }

# /etc/openidd: the config is readable by the daemon's group; keys are root's alone (0700), and
# systemd hands them to the service with LoadCredential=.
install -d -m 0750 "$root/etc/openidd"
group_owner "$root/etc/openidd"
install -d -m 0700 "$root/etc/openidd/keys"
if [ ! -e "$root/etc/openidd/config.json" ]; then
    install -m 0640 config.example.json "$root/etc/openidd/config.json"
    group_owner "$root/etc/openidd/config.json"
    echo "install.sh: wrote /etc/openidd/config.json from config.example.json; edit it"
else
    echo "install.sh: kept the existing /etc/openidd/config.json"
fi
echo "install.sh: installed into ${destdir:-/}; next:"
echo "  1. keys into /etc/openidd/keys (0600 root): merchant_private.pem, platform_public.pem"
echo "  2. CREDENTIALS_DIRECTORY=/etc/openidd/keys $prefix/bin/openidd --check-config"
echo "  3. systemctl daemon-reload && systemctl enable --now openidd.socket openidd-callback.socket openidd.service"
