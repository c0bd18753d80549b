# Sourced by ./rtb and ./run-tests: `need COMMAND PACKAGE` for each tool, then `install_needed` installs the
# Debian packages of the missing ones with apt (as root, or through sudo). Nothing is installed when all are there.
missing_packages=()
need() { command -v "$1" >/dev/null 2>&1 || missing_packages+=("$2"); }
install_needed() {
  [ ${#missing_packages[@]} -gt 0 ] || return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "$(basename "$0"): installing ${missing_packages[*]}" >&2
  $sudo apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing_packages[@]}" >&2
}
