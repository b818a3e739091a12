#!/usr/bin/env bash
# Smoke-test the Debian package as a user would get it: `apt install ./dist/….deb` (as the README
# says; apt pulls the Depends), check that no bundled file searches a build machine's folder for
# libraries, use the installed `apikeys` (command line on a SQLite file and, in team mode, on a
# throwaway PostgreSQL cluster; then the window offscreen and on a real X server, closed with
# SIGTERM), dpkg -r, and check that the files are gone while the user's
# database stays.
#
# Usage (as root, after `make package`): packaging/smoke.sh [dist/apikeys_<version>_<arch>.deb]
# A full key is never printed: it is kept in a variable and handed over on stdin.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\nsmoke: == %s\n' "$*"; }
ok() { printf 'smoke: ok   %s\n' "$*"; }
fail() {
    printf '\nsmoke: FAIL %s\n' "$*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || fail "must run as root (it installs the .deb with apt and removes it with dpkg)"
DEB=${1:-$(ls -t dist/apikeys_*.deb 2>/dev/null | head -n 1)}
[ -n "$DEB" ] && [ -f "$DEB" ] || fail "no .deb found in dist/; run 'make package' first"
PKG=$(dpkg-deb -f "$DEB" Package)
[ "$PKG" = apikeys ] || fail "$DEB is package '$PKG', expected 'apikeys'"

# Any Python 3 reads the JSON; the venv's is there after `make package`.
PYTHON=$(readlink -f "${SMOKE_PYTHON:-.venv/bin/python}")
[ -x "$PYTHON" ] || fail "no Python at $PYTHON for checking JSON (set SMOKE_PYTHON)"
WORK=$(mktemp -d /tmp/apikeys-smoke.XXXXXX)
INSTALLED_BY_US=0
XVFB_PID=
APP_PID=
PG_DIR=
PG_BIN=
pg_ctl() { runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" "$@"; }
cleanup() {
    local rc=$?
    [ -n "$APP_PID" ] && kill -KILL "$APP_PID" 2>/dev/null
    [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null
    if [ -n "$PG_DIR" ]; then
        [ -f "$PG_DIR/data/postmaster.pid" ] && pg_ctl -m immediate -w stop >/dev/null 2>&1
        rm -rf "$PG_DIR"
    fi
    if [ "$INSTALLED_BY_US" = 1 ] && dpkg-query -W -f='${Status}' apikeys 2>/dev/null | grep -q installed; then
        dpkg -r apikeys >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
    [ "$rc" = 0 ] && printf '\nsmoke: PASSED\n' || printf '\nsmoke: FAILED (exit %s)\n' "$rc" >&2
}
trap cleanup EXIT

# -- install -------------------------------------------------------------------
step "install $DEB ($(du -h "$DEB" | cut -f1))"
# Tools of this script only (the package's own Depends are apt's to pull in, below).
missing=()
for pkg in xvfb x11-utils binutils; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# The team-mode step runs a throwaway server: the newest of Debian's /usr/lib/postgresql/<version>/bin.
pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
PG_BIN=$(pg_bindir)
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] || missing+=(postgresql)
lists_empty() { ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; }
if [ "${#missing[@]}" -gt 0 ] || lists_empty; then
    apt-get update -qq >/dev/null || fail "apt-get update failed"
fi
if [ "${#missing[@]}" -gt 0 ]; then
    echo "smoke: installing from apt for the smoke test itself: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        fail "apt-get install ${missing[*]} failed"
fi
# Exactly the README's command (apt wants ./ or an absolute path to take a file, not a name).
case $DEB in /*) deb_arg=$DEB ;; *) deb_arg=./$DEB ;; esac
apt_install() { DEBIAN_FRONTEND=noninteractive apt install -y "$deb_arg" >"$WORK/apt-install.log" 2>&1; }
if ! apt_install; then
    # Stale package lists (a Depends moved to a newer version): refresh once and try again.
    apt-get update -qq >/dev/null 2>&1 || true
    apt_install || {
        tail -n 20 "$WORK/apt-install.log" >&2
        fail "apt install $deb_arg failed"
    }
fi
PG_BIN=$(pg_bindir)
INSTALLED_BY_US=1
ok "apt install $deb_arg (pulled: $(grep -c '^Setting up' "$WORK/apt-install.log") packages set up)"

# -- no build-machine library paths ------------------------------------------------
# A RUNPATH/RPATH entry that is not $ORIGIN-relative names a folder of the build machine (or the
# working directory): whoever can write there on this machine could plant libraries we load.
unsafe=0
checked=0
while IFS= read -r -d '' file; do
    [ "$(head -c 4 "$file" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
    checked=$((checked + 1))
    paths=$(readelf -d "$file" 2>/dev/null | sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\]/\2/p')
    [ -n "$paths" ] || continue
    IFS=: read -r -a entries <<<"$paths"
    for entry in "${entries[@]}"; do
        case $entry in '$ORIGIN'* | '${ORIGIN}'* | '') ;; *)
            echo "smoke: $file searches $entry" >&2
            unsafe=$((unsafe + 1))
            ;;
        esac
    done
done < <(find /opt/apikeys -type f -print0)
[ "$checked" -gt 10 ] || fail "found only $checked ELF files under /opt/apikeys"
[ "$unsafe" = 0 ] || fail "$unsafe RUNPATH/RPATH entries outside \$ORIGIN in the installed bundle"
ok "no RUNPATH/RPATH outside \$ORIGIN in $checked ELF files under /opt/apikeys"

for path in /opt/apikeys/apikeys /usr/bin/apikeys /usr/share/applications/apikeys.desktop \
    /usr/share/icons/hicolor/256x256/apps/apikeys.png /usr/share/icons/hicolor/scalable/apps/apikeys.svg \
    /usr/lib/systemd/user/apikeys-remind.service /usr/lib/systemd/user/apikeys-remind.timer \
    /usr/lib/systemd/user/timers.target.wants/apikeys-remind.timer; do
    [ -e "$path" ] || fail "$path was not installed"
done
ok "files installed under /opt/apikeys, /usr/bin and /usr/share"

# A user's environment, not CI's: a temporary HOME, and nothing that points elsewhere.
mkdir -p "$WORK/home" "$WORK/data" "$WORK/runtime"
chmod 700 "$WORK/runtime"
DB="$WORK/data/keys.db"
export SMOKE_PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CLEAN_ENV=(env -i PATH="$SMOKE_PATH" HOME="$WORK/home" LANG=C.UTF-8 XDG_RUNTIME_DIR="$WORK/runtime")
run() { "${CLEAN_ENV[@]}" "$@"; }
APP=$(run sh -c 'command -v apikeys') || fail "apikeys is not on the PATH after installation"
[ "$APP" = /usr/bin/apikeys ] || fail "apikeys on the PATH is $APP, expected /usr/bin/apikeys"
ok "apikeys on the PATH: $APP -> $(readlink -f "$APP")"

# -- command line -------------------------------------------------------------
step "command line from the installed app"
version=$(run apikeys --version) || fail "apikeys --version exited $?"
ok "--version: $version"

key=$(run apikeys create --description "smoke test" --database "$DB" 2>"$WORK/create.err") ||
    fail "apikeys create exited $? ($(head -c 300 "$WORK/create.err"))"
[[ "$key" =~ ^ak_[0-9A-Za-z]{38}$ ]] || fail "apikeys create did not print one key in the contract's format"
[ -f "$DB" ] || fail "apikeys create did not create $DB"
ok "create: printed a key of the contract's format (not shown), created $(basename "$DB")"

set +e
verdict=$(printf '%s\n' "$key" | run apikeys verify - --database "$DB" 2>"$WORK/verify.err")
rc=$?
set -e
[ "$rc" = 0 ] && [ "$verdict" = valid ] || fail "verify: expected 'valid' and exit 0, got '$verdict' and exit $rc"
ok "verify: valid, exit 0"

set +e
last=${key: -1}
[ "$last" = x ] && other=y || other=x
verdict=$(printf '%s\n' "${key:0:40}$other" | run apikeys verify - --database "$DB" 2>/dev/null)
rc=$?
set -e
[ "$rc" = 1 ] && [ "$verdict" = malformed ] || fail "verify of a damaged key: expected 'malformed' and exit 1, got '$verdict' and exit $rc"
ok "verify of a damaged key: malformed, exit 1"

listing=$(run apikeys list --json --database "$DB") || fail "apikeys list --json exited $?"
[[ "$listing" != *"$key"* ]] || fail "list --json shows the full key"
run LISTING="$listing" "$PYTHON" -c '
import json, os, re, sys
rows = json.loads(os.environ["LISTING"])
assert isinstance(rows, list) and len(rows) == 1, f"expected one key, got {len(rows)}"
row = rows[0]
for field in ("id", "masked", "description", "created_at", "expires_at", "active", "last_used_at"):
    assert field in row, f"missing field {field}"
assert re.fullmatch(r"ak_[0-9A-Za-z]{4}\u2026[0-9A-Za-z]{4}", row["masked"]), "masked form"
assert row["description"] == "smoke test" and row["active"] is True and row["expires_at"] is None
' 2>"$WORK/json.err" || fail "list --json: $(tail -n 1 "$WORK/json.err")"
ok "list --json: one key, contract fields, masked"
unset key

# Expiry reminders: nothing expires yet (exit 0), then a key expiring tomorrow (exit 1, and the reminder's text).
run apikeys expiring --database "$DB" >"$WORK/expiring.out" 2>&1 || fail "apikeys expiring with none due exited $?"
run apikeys create --description "smoke expiring" --expires "$(date -d tomorrow +%F)" --database "$DB" >/dev/null ||
    fail "apikeys create --expires exited $?"
rc=0
run apikeys expiring --json --database "$DB" >"$WORK/expiring.json" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q '"smoke expiring"' "$WORK/expiring.json" || fail "apikeys expiring: expected exit 1 and the key, got $rc"
reminder=$(run apikeys remind --dry-run --database "$DB" 2>&1) || fail "apikeys remind --dry-run exited $?"
[[ "$reminder" == "1 API key expires within 7 days"* && "$reminder" == *"smoke expiring"* ]] ||
    fail "apikeys remind --dry-run: $reminder"
[[ ! "$reminder" =~ ak_[0-9A-Za-z]{38} ]] || fail "the reminder shows a full key"
run apikeys remind --off >/dev/null && run apikeys remind --status | grep -q "are off" || fail "apikeys remind --off"
ok "expiring: exit 0 then 1; remind --dry-run names the key masked; remind --off"
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify /usr/lib/systemd/user/apikeys-remind.service /usr/lib/systemd/user/apikeys-remind.timer \
        >"$WORK/units.out" 2>&1 || fail "systemd-analyze verify: $(head -c 300 "$WORK/units.out")"
    ok "the reminder's systemd units verify"
fi

# -- team mode: the same commands on a PostgreSQL server -------------------------
# The bundle's psycopg brings its own libpq (psycopg_binary.libs), so nothing of the machine's is needed
# but a server. This one is throwaway: a Unix socket only (no TCP port), run as postgres (it refuses root).
step "team mode: the installed app on a throwaway PostgreSQL cluster ($PG_BIN)"
[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] || fail "no PostgreSQL server programs in /usr/lib/postgresql/*/bin"
id postgres >/dev/null 2>&1 || fail "there is no postgres user to run the server as"
PG_DIR=$(mktemp -d /tmp/apikeys-smoke-pg.XXXXXX)
install -d -o postgres -g postgres -m 755 "$PG_DIR" "$PG_DIR/sock"
runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$WORK/initdb.log" 2>&1 || fail "initdb failed ($(tail -n 3 "$WORK/initdb.log"))"
pg_ctl -l "$PG_DIR/log" -w -o "-k $PG_DIR/sock -c listen_addresses='' -c fsync=off" start >"$WORK/pg_ctl.log" 2>&1 ||
    fail "pg_ctl start failed ($(tail -n 3 "$PG_DIR/log" 2>/dev/null))"
runuser -u postgres -- "$PG_BIN/createdb" -h "$PG_DIR/sock" -U postgres apikeys_smoke ||
    fail "createdb apikeys_smoke failed"
PG_URL="postgresql://postgres@/apikeys_smoke?host=$PG_DIR/sock"
ok "PostgreSQL $("$PG_BIN/pg_ctl" --version | awk '{print $3}') on $PG_DIR/sock, database apikeys_smoke"

key=$(run apikeys create --description "team smoke" --database "$PG_URL" 2>"$WORK/pg-create.err") ||
    fail "team mode: apikeys create exited $? ($(head -c 300 "$WORK/pg-create.err"))"
[[ "$key" =~ ^ak_[0-9A-Za-z]{38}$ ]] || fail "team mode: apikeys create did not print one key in the contract's format"
ok "team mode: create printed a key (not shown); the first open made the schema"
set +e
verdict=$(printf '%s\n' "$key" | run apikeys verify - --database "$PG_URL" 2>"$WORK/pg-verify.err")
rc=$?
set -e
[ "$rc" = 0 ] && [ "$verdict" = valid ] ||
    fail "team mode: verify: expected 'valid' and exit 0, got '$verdict' and exit $rc ($(head -c 300 "$WORK/pg-verify.err"))"
ok "team mode: verify: valid, exit 0"
listing=$(run apikeys list --json --database "$PG_URL") || fail "team mode: apikeys list --json exited $?"
[[ "$listing" != *"$key"* ]] || fail "team mode: list --json shows the full key"
run LISTING="$listing" "$PYTHON" -c '
import json, os
rows = json.loads(os.environ["LISTING"])
assert [row["description"] for row in rows] == ["team smoke"], f"expected the one key, got {len(rows)} rows"
assert rows[0]["active"] is True
' 2>"$WORK/pg-json.err" || fail "team mode: list --json: $(tail -n 1 "$WORK/pg-json.err")"
ok "team mode: list --json: the one key, masked"
unset key
pg_ctl -m fast -w stop >"$WORK/pg_ctl.log" 2>&1 || fail "pg_ctl stop failed"
set +e
run apikeys list --database "$PG_URL" >/dev/null 2>"$WORK/pg-gone.err"
rc=$?
set -e
[ "$rc" = 3 ] && [ "$(wc -l <"$WORK/pg-gone.err")" = 1 ] ||
    fail "team mode, server stopped: expected one line and exit 3, got exit $rc: $(head -c 500 "$WORK/pg-gone.err")"
ok "team mode, server stopped: exit 3, '$(cat "$WORK/pg-gone.err")'"
rm -rf "$PG_DIR"
PG_DIR=

# -- window -------------------------------------------------------------------
QT_ERRORS='qt\.qpa\.plugin|Could not load the Qt platform plugin|Traceback|This application failed to start'

# start_window NAME ENV... : start the installed app with no command, in the background.
start_window() {
    local name=$1
    shift
    # A simple command, not the run() function: `func &` would fork a subshell, and $! (the
    # process that gets SIGTERM) would be that shell, not the app.
    "${CLEAN_ENV[@]}" "$@" apikeys --database "$DB" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    APP_PID=$!
}

# close_window NAME: SIGTERM, then require exit 0 and a clean stderr.
close_window() {
    local name=$1 rc
    kill -0 "$APP_PID" 2>/dev/null || {
        wait "$APP_PID" && rc=0 || rc=$?
        APP_PID=
        head -c 2000 "$WORK/$name.err" >&2
        fail "$name: the window exited by itself (exit $rc) before SIGTERM"
    }
    kill -TERM "$APP_PID"
    SECONDS=0
    for _ in $(seq 1 100); do
        kill -0 "$APP_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$APP_PID" 2>/dev/null; then
        kill -KILL "$APP_PID"
        wait "$APP_PID" 2>/dev/null || true
        APP_PID=
        fail "$name: still running 10 s after SIGTERM"
    fi
    wait "$APP_PID" && rc=0 || rc=$?
    APP_PID=
    if [ "$rc" != 0 ]; then
        head -c 2000 "$WORK/$name.err" >&2
        fail "$name: exit $rc after SIGTERM, expected 0 (is install_quit_on_signals() wired into launcher.run?)"
    fi
    if grep -Eq "$QT_ERRORS" "$WORK/$name.err"; then
        head -c 2000 "$WORK/$name.err" >&2
        fail "$name: stderr has a Qt plugin error or a traceback"
    fi
    ok "$name: exit 0 within ${SECONDS} s of SIGTERM, no plugin error or traceback on stderr"
}

step "window, offscreen (QT_QPA_PLATFORM=offscreen), closed with SIGTERM"
start_window offscreen QT_QPA_PLATFORM=offscreen
# Give it time to reach the event loop; an app that dies on start is caught by close_window.
for _ in $(seq 1 40); do
    kill -0 "$APP_PID" 2>/dev/null || break
    sleep 0.1
done
close_window offscreen

step "window on an X server (Xvfb, the bundle's own xcb platform plugin), closed with SIGTERM"
display=:$((90 + RANDOM % 100))
Xvfb "$display" -nolisten tcp -screen 0 1280x800x24 >"$WORK/xvfb.log" 2>&1 &
XVFB_PID=$!
for _ in $(seq 1 50); do
    DISPLAY=$display xwininfo -root >/dev/null 2>&1 && break
    sleep 0.1
done
DISPLAY=$display xwininfo -root >/dev/null 2>&1 || fail "Xvfb did not start ($(tail -n 3 "$WORK/xvfb.log"))"
start_window xcb DISPLAY="$display"
shown=
for _ in $(seq 1 150); do
    # The title becomes "<database> — API Key Manager" (Qt appends the display name) once the store is open.
    if DISPLAY=$display xwininfo -root -tree 2>/dev/null | grep -q ' — API Key Manager": ('; then
        shown=1
        break
    fi
    kill -0 "$APP_PID" 2>/dev/null || break
    sleep 0.1
done
[ -n "$shown" ] || {
    head -c 2000 "$WORK/xcb.err" >&2
    fail "xcb: no window titled '… — API Key Manager' appeared within 15 s"
}
ok "xcb: the main window is mapped, with the database open"
# harden_process(): a crash must not write a core file holding a key (issue 10.5).
core=$(awk '/^Max core file size/ {print $5, $6}' "/proc/$APP_PID/limits")
[ "$core" = "0 0" ] || fail "xcb: the installed app's core file limit is '$core', expected '0 0'"
ok "xcb: core file limit 0 (soft and hard)"
sleep 1 # the quit-on-signal handlers are installed right before app.exec()
close_window xcb
kill "$XVFB_PID" 2>/dev/null || true
XVFB_PID=

step "window with no display at all"
set +e
run apikeys --database "$DB" >"$WORK/nodisplay.out" 2>"$WORK/nodisplay.err"
rc=$?
set -e
if [ "$rc" = 0 ] || grep -Eq "$QT_ERRORS" "$WORK/nodisplay.err" || [ "$(wc -l <"$WORK/nodisplay.err")" != 1 ]; then
    head -c 2000 "$WORK/nodisplay.err" >&2
    fail "no display: expected one clear line on stderr and a non-zero exit, got exit $rc (is check_display() wired into launcher.run?)"
fi
ok "no display: exit $rc, '$(cat "$WORK/nodisplay.err")'"

# -- removal ------------------------------------------------------------------
step "dpkg -r apikeys"
dpkg -r apikeys >"$WORK/dpkg-r.log" 2>&1 || {
    cat "$WORK/dpkg-r.log" >&2
    fail "dpkg -r apikeys failed"
}
INSTALLED_BY_US=0
for path in /opt/apikeys /usr/bin/apikeys /usr/share/applications/apikeys.desktop /usr/share/metainfo/apikeys.metainfo.xml; do
    [ ! -e "$path" ] && [ ! -L "$path" ] || fail "$path is still there after dpkg -r"
done
leftover=$(find /usr/share/icons/hicolor -name 'apikeys.*' 2>/dev/null | head -n 1)
[ -z "$leftover" ] || fail "icon $leftover is still there after dpkg -r"
ok "/opt/apikeys, /usr/bin/apikeys, the desktop entry, metainfo and icons are gone"
[ -s "$DB" ] || fail "the user's database $DB is gone after dpkg -r"
ok "the user's database is still there"
dpkg -P apikeys >"$WORK/dpkg-p.log" 2>&1 || {
    cat "$WORK/dpkg-p.log" >&2
    fail "dpkg -P apikeys (purge) failed"
}
[ ! -e /opt/apikeys ] && [ -s "$DB" ] || fail "after dpkg -P: /opt/apikeys is back or the database is gone"
ok "dpkg -P (purge) also leaves the database alone"
