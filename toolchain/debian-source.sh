# Sourced by toolchain scripts: fetch a Debian source package without touching the machine's
# apt configuration (a temporary deb-src entry and private package lists, removed afterwards).
#
#   debian_source SUITE DEST PACKAGE [apt-get source options...]
#
# SUITE empty means the machine's own suite (from its apt sources); the mirror and keyring are
# the machine's too. Runs `apt-get source PACKAGE` in DEST (which it creates); extra options
# go to apt-get source, e.g. --download-only. Returns apt-get's status; messages go to stderr.
debian_source() {
  local suite=$1 dest=$2 pkg=$3
  shift 3
  local tmp uri="" keyring="" own_suite="" rc=0
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    own_suite=$(awk '/^Suites:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    keyring=$(awk '/^Signed-By:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    read -r uri own_suite < <(awk '$1 == "deb" && $2 !~ /^\[/ {print $2, $3; exit}' /etc/apt/sources.list)
  fi
  uri=${uri:-http://deb.debian.org/debian}
  suite=${suite:-${own_suite:-bookworm}}
  tmp=$(mktemp -d)
  mkdir -p "$tmp/sources.list.d" "$tmp/lists/partial" "$dest"
  {
    echo "Types: deb-src"
    echo "URIs: $uri"
    echo "Suites: $suite"
    echo "Components: main"
    [ -n "$keyring" ] && echo "Signed-By: $keyring"
  } > "$tmp/sources.list.d/mote-src.sources"
  local opts=(-o "Dir::Etc::SourceParts=$tmp/sources.list.d" -o "Dir::Etc::SourceList=/dev/null"
              -o "Dir::State::Lists=$tmp/lists")
  apt-get "${opts[@]}" update -qq >&2 || echo "debian_source: warning: apt-get update (deb-src $suite) reported errors" >&2
  (cd "$dest" && apt-get "${opts[@]}" source -qq "$@" "$pkg" >&2) || rc=$?
  rm -rf "$tmp"
  return $rc
}
