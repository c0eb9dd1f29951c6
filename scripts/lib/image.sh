# Docker images built with no registry: a minimal Debian root made with debootstrap,
# then imported with `docker import`. Sourced by scripts/*-image; needs root.

# debian_root DIR PACKAGES: a bookworm minbase root in DIR with PACKAGES (comma-
# separated) installed, trusting what this host trusts.
debian_root() {
  local root=$1 packages=$2
  if ! command -v debootstrap >/dev/null; then
    apt-get install -y -q debootstrap >&2 || { apt-get update -q >&2 && apt-get install -y -q debootstrap >&2; }
  fi
  debootstrap --variant=minbase --include="$packages" bookworm "$root" http://deb.debian.org/debian >&2
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
}

# import_root DIR IMAGE [--change …]…: DIR as IMAGE, without apt's caches and logs.
import_root() {
  local root=$1 image=$2
  shift 2
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
  tar -C "$root" -c . | docker import "$@" - "$image" >&2
  echo "built $image" >&2
}
