# shellcheck shell=bash disable=SC2034  # APT_OPTS is for the sourcing script
# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the test-image builders (sourced, not run): Debian packages
# fetched without installing them, and build caches keyed on their
# versions.  The sourcing script defines log().

# apt drops privileges to _apt for downloads; our temp dirs are root's.
APT_OPTS=()
[[ $EUID -ne 0 ]] || APT_OPTS=(-o APT::Sandbox::User=root)

apt_updated=0
apt_update_once() {
    [[ $apt_updated -eq 0 ]] || return 0
    apt_updated=1
    log "running apt-get update"
    apt-get -q update >&2 || log "warning: apt-get update failed"
}

# Candidate version of a package in the local apt lists ("" if none).
candidate_version() {
    local v
    v=$(LC_ALL=C apt-cache policy -- "$1" 2>/dev/null |
        awk '$1 == "Candidate:" { print $2; exit }')
    [[ "$v" == "(none)" ]] && v=""
    printf '%s' "$v"
}

# "PKG=VERSION" lines for every package, in one apt-cache call; fails if
# one has no candidate.
candidate_versions() {
    local out p v
    out=$(LC_ALL=C apt-cache policy -- "$@" 2>/dev/null |
        awk '/^[^[:space:]]/ { p = $0; sub(/:$/, "", p) }
             $1 == "Candidate:" && $2 != "(none)" { print p "=" $2 }') || true
    for p in "$@"; do
        v=$(awk -F= -v p="$p" '$1 == p { print $2; exit }' <<<"$out")
        [[ -n "$v" ]] || return 1
        printf '%s=%s\n' "$p" "$v"
    done
}

# cache_open OUTDIR: make OUTDIR's parent, set PARENT and OUTDIR to
# absolute paths, and hold OUTDIR.lock (fd 9) so parallel builds of one
# cache take turns.
cache_open() {
    PARENT=$(dirname -- "$1")
    mkdir -p -- "$PARENT"
    PARENT=$(cd -- "$PARENT" && pwd -P)
    OUTDIR=$PARENT/$(basename -- "$1")
    exec 9>"$OUTDIR.lock"
    flock 9
}

# cache_current FORCE: set INPUTS from the caller's compute_inputs (after
# one apt-get update if the lists lack a package) and succeed when OUTDIR
# already holds a complete build (build_complete) of exactly those inputs,
# unless FORCE is 1.  Offline, a build by this same script is reused.
cache_current() {
    if ! INPUTS=$(compute_inputs); then
        apt_update_once
        if ! INPUTS=$(compute_inputs); then
            if build_complete "$OUTDIR" &&
                grep -qx "script-sha256=$SCRIPT_HASH" "$OUTDIR/.inputs"; then
                log "warning: cannot determine package versions; reusing $OUTDIR"
                return 0
            fi
            die "the packages this build needs are not available from apt"
        fi
    fi
    [[ "$1" != 1 ]] && build_complete "$OUTDIR" &&
        [[ "$(cat -- "$OUTDIR/.inputs")" == "$INPUTS" ]] &&
        log "up to date: $OUTDIR"
}

# apt_download DIR PKG...: fetch .debs into DIR (no install), updating
# the package lists once if a package is not found.
apt_download() {
    local dir=$1
    shift
    if ! (cd -- "$dir" && apt-get -q "${APT_OPTS[@]}" download -- "$@" >&2); then
        apt_update_once
        (cd -- "$dir" && apt-get -q "${APT_OPTS[@]}" download -- "$@" >&2) ||
            die "apt-get download $* failed"
    fi
}

# deb_of DIR PKG: the downloaded .deb of PKG in DIR.
deb_of() {
    local f
    for f in "$1/$2"_*.deb; do
        [[ -f "$f" ]] || continue
        printf '%s' "$f"
        return 0
    done
    die "no .deb for $2 in $1"
}
