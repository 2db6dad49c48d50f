#!/usr/bin/env bash
# Checks for the .NET SDK, installs npm (Debian/Ubuntu package npm) when missing, and installs the
# Fashion-MNIST dataset (package dataset-fashion-mnist) when it is missing and the data folder is
# the default one.
set -euo pipefail

data_dir="${1:-/usr/share/datasets/fashion-mnist}"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET 10 SDK is not installed (no 'dotnet' on PATH)." >&2
  echo "Install it from https://learn.microsoft.com/dotnet/core/install/linux (package dotnet-sdk-10.0), then run this command again." >&2
  exit 1
fi

# The build installs the run page's chart library with 'npm ci'.
if ! command -v npm >/dev/null 2>&1; then
  npm_cmd=(apt-get install -y -q npm)
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      npm_cmd=(sudo "${npm_cmd[@]}")
    else
      echo "error: npm is missing; the build needs it for the run page's chart library. Install it as root with: apt-get install npm" >&2
      exit 1
    fi
  fi

  echo "npm is missing; installing the Debian package npm..." >&2
  if ! DEBIAN_FRONTEND=noninteractive "${npm_cmd[@]}" >/dev/null 2>&1; then
    update_cmd=(apt-get update -q)
    [ "$(id -u)" -ne 0 ] && update_cmd=(sudo "${update_cmd[@]}")
    "${update_cmd[@]}" >/dev/null
    DEBIAN_FRONTEND=noninteractive "${npm_cmd[@]}" >/dev/null
  fi
fi

if [ -f "$data_dir/train-images-idx3-ubyte.gz" ] || [ -f "$data_dir/train-images-idx3-ubyte" ]; then
  exit 0
fi

if [ "$data_dir" != "/usr/share/datasets/fashion-mnist" ]; then
  echo "error: $data_dir does not hold the Fashion-MNIST IDX files (train-images-idx3-ubyte.gz and the three others)." >&2
  exit 1
fi

install_cmd=(apt-get install -y -q dataset-fashion-mnist)
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    install_cmd=(sudo "${install_cmd[@]}")
  else
    echo "error: Fashion-MNIST is missing. Install it as root with: apt-get install dataset-fashion-mnist" >&2
    echo "or pass --data DIR with the four IDX files." >&2
    exit 1
  fi
fi

echo "Fashion-MNIST is missing; installing the Debian package dataset-fashion-mnist..." >&2
if ! DEBIAN_FRONTEND=noninteractive "${install_cmd[@]}" >/dev/null 2>&1; then
  update_cmd=(apt-get update -q)
  [ "$(id -u)" -ne 0 ] && update_cmd=(sudo "${update_cmd[@]}")
  "${update_cmd[@]}" >/dev/null
  DEBIAN_FRONTEND=noninteractive "${install_cmd[@]}" >/dev/null
fi
