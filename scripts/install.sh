#!/usr/bin/env bash
# Installs openidd on a server: release binaries (Swift runtime linked in), systemd units, a config
# skeleton and the key directory, with the permissions the daemon expects.
#
#   sudo scripts/install.sh                    # build, then install into / (creates the openidd user)
#   scripts/install.sh --destdir /tmp/stage    # stage into a directory (packaging, tests); no user made
#   scripts/install.sh --no-build --bin DIR    # install binaries already built in DIR
#   sudo scripts/install.sh --uninstall        # stop and remove the binaries, units and docs; keep
#                                              # /etc/openidd, /var/lib/openidd and the openidd user
#
# Afterwards: put the keys in /etc/openidd/keys, edit /etc/openidd/config.json, then
#   systemctl daemon-reload && systemctl enable --now openidd.socket openidd-callback.socket openidd.service
set -euo pipefail
cd "$(dirname "$0")/.."

destdir=""
prefix="/usr/local"
build=yes
bin=".build/release"
uninstall=no
# An option's value: present, not empty, and not the next option.
value() {
    if [ $# -lt 2 ] || [ -z "$2" ] || [ "${2#--}" != "$2" ]; then
        echo "install.sh: $1 needs a value; see install.sh --help" >&2
        exit 2
    fi
}
while [ $# -gt 0 ]; do
    case "$1" in
        --destdir) value "$@"; destdir="$2"; shift 2 ;;
        --prefix) value "$@"; prefix="$2"; shift 2 ;;
        --no-build) build=no; shift ;;
        --bin) value "$@"; bin="$2"; shift 2 ;;
        --uninstall) uninstall=yes; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument $1; see install.sh --help" >&2; exit 2 ;;
    esac
done

root="${destdir%/}"
binaries=("$root$prefix/bin/openidd" "$root$prefix/bin/openidctl")
units=(openidd.service openidd.socket openidd-callback.socket)
docs="$root$prefix/share/doc/openidd"

if [ "$uninstall" = yes ]; then
    if [ -z "$destdir" ] && command -v systemctl >/dev/null; then
        systemctl disable --now "${units[@]}" 2>/dev/null || true
    fi
    for path in "${binaries[@]}" "${units[@]/#/$root/etc/systemd/system/}" "$docs"; do
        if [ -e "$path" ]; then
            rm -rf -- "$path"
            echo "install.sh: removed $path"
        fi
    done
    if [ -z "$destdir" ] && command -v systemctl >/dev/null; then systemctl daemon-reload || true; fi
    echo "install.sh: kept $root/etc/openidd (configuration and keys), $root/var/lib/openidd (the ledger)" \
        "and the openidd user; remove them by hand once the bindings are no longer needed"
    exit 0
fi

if [ "$build" = yes ]; then
    # The Swift runtime is linked in, so the server needs only libssl3 and libc, not a Swift toolchain.
    swift build -c release --static-swift-stdlib --product openidd
    swift build -c release --static-swift-stdlib --product openidctl
fi
for binary in openidd openidctl; do
    [ -x "$bin/$binary" ] || { echo "install.sh: $bin/$binary not found; build first or pass --bin" >&2; exit 1; }
done

install -d -m 0755 "$root$prefix/bin" "$root/etc/systemd/system" "$docs"
install -m 0755 "$bin/openidd" "$bin/openidctl" "$root$prefix/bin/"
echo "install.sh: installed ${binaries[*]}"
# Unit files name /usr/local/bin; follow --prefix.
for unit in "${units[@]}"; do
    sed "s#/usr/local/#$prefix/#g" "systemd/$unit" > "$root/etc/systemd/system/$unit"
    chmod 0644 "$root/etc/systemd/system/$unit"
    echo "install.sh: installed $root/etc/systemd/system/$unit"
done
install -d -m 0755 "$docs/docs/zh-CN"
install -m 0644 README.md README.zh-CN.md config.example.json "$docs/"
install -m 0644 docs/*.md "$docs/docs/"
install -m 0644 docs/zh-CN/*.md "$docs/docs/zh-CN/"
echo "install.sh: installed $docs/README.md, $docs/docs/ (English and zh-CN) and config.example.json"

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
    echo "install.sh: wrote $root/etc/openidd/config.json from config.example.json; edit it"
else
    echo "install.sh: kept the existing $root/etc/openidd/config.json"
fi
if [ -n "$destdir" ]; then
    echo "install.sh: staged under $destdir; on the machine it is installed on, next:"
else
    echo "install.sh: installed; next:"
fi
echo "  1. keys into /etc/openidd/keys (0600 root): merchant_private.pem, platform_public.pem"
echo "  2. CREDENTIALS_DIRECTORY=/etc/openidd/keys $prefix/bin/openidd --check-config"
echo "  3. systemctl daemon-reload && systemctl enable --now openidd.socket openidd-callback.socket openidd.service"
