# shellcheck shell=bash
# scripts/packages.sh - sourced by the other scripts: install missing Debian packages.
#
# ensure_packages PKG...: installs those of PKG that dpkg does not report as installed,
# with apt-get (running `apt-get update` first, only when something is missing). Quiet
# when everything is there. Works as root, or through sudo otherwise.

ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "error: missing packages (${missing[*]}) and not root; install them or get sudo" >&2
      return 1
    fi
    sudo=(sudo)
  fi
  echo "installing: ${missing[*]}"
  ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
