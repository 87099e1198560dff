#!/usr/bin/python3
"""Make TorchSharp's native libLibTorchSharp.so load on libstdc++ older than GCC 13.

Why
---
TorchSharp 0.107.0 ships libLibTorchSharp.so built with GCC 13. Every C++ file
that includes <iostream> under GCC 13 gets the line

    __asm(".globl _ZSt21ios_base_library_initv")

which leaves an *undefined* dynamic symbol `std::ios_base_library_init()` bound
to symbol version GLIBCXX_3.4.32. The symbol is a marker only: nothing calls it
and no relocation refers to it (it exists so that the library pulls in a
libstdc++ that initialises std::cout early). But the ELF "version needs" table
(.gnu.version_r) then lists GLIBCXX_3.4.32 as required from libstdc++.so.6, and
Debian 12 (GCC 12, up to GLIBCXX_3.4.30) and Ubuntu 22.04 do not define it, so
the dynamic loader refuses the whole library:

    libstdc++.so.6: version `GLIBCXX_3.4.32' not found (required by libLibTorchSharp.so)

What
----
glibc's loader (elf/dl-version.c, match_symbol) fails only for a missing version
whose Vernaux entry is *not* flagged VER_FLG_WEAK; for a weak one it just goes on
(`ldd` prints "weak version ... not found" as a warning). So this script, for the
Vernaux entry of GLIBCXX_3.4.32 and only if every symbol bound to that version is
a known marker symbol:

  1. sets VER_FLG_WEAK (0x2) in that entry's vna_flags (2 bytes in .gnu.version_r);
  2. makes each such undefined symbol STB_WEAK instead of STB_GLOBAL (1 byte in
     .dynsym per symbol), so that even if something ever looked it up, an
     unresolved weak reference binds to 0 instead of failing.

The symbol keeps its version index, so on a system that does have GCC 13+'s
libstdc++ the patched library behaves exactly like the original.
Nothing else changes; the file keeps its size. The original is kept beside the
file as <name>.orig; `--restore` puts it back.

Where the copies are
--------------------
The package cache holds the original (~/.nuget/packages/torchsharp/<v>/runtimes/
linux-x64/native/). Builds copy it into bin/**/runtimes/linux-x64/native/ and,
when TorchSharp is loaded from a script or notebook, TorchSharp itself copies it
*once* (only if the target does not exist) into a "cpu" folder next to
TorchSharp.dll (e.g. <packages>/torchsharp/<v>/lib/net8.0/cpu/ or bin/.../cpu/).
Give this script every folder that may hold such copies; it finds
libLibTorchSharp.so files below them and patches those that need it.

Usage
-----
  patch_libtorchsharp.py [--check | --restore] [--force] [--quiet] [--prefix P] PATH...

PATH is a .so file or a folder searched recursively. Exit status: 0 all fine,
1 with --check when something needs patching, 2 on an error.
Only the Python 3 standard library is used.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile

LIBRARY_NAME = "libLibTorchSharp.so"
# version -> marker symbols that may be bound to it (nothing else is safe to weaken)
WEAKENABLE = {"GLIBCXX_3.4.32": {"_ZSt21ios_base_library_initv"}}

SHT_DYNSYM = 11
SHT_GNU_VERDEF = 0x6FFFFFFD
SHT_GNU_VERNEED = 0x6FFFFFFE
SHT_GNU_VERSYM = 0x6FFFFFFF
VER_FLG_WEAK = 0x2
STB_GLOBAL, STB_WEAK = 1, 2
SKIP_DIRS = {".git", "node_modules", ".vs"}


class ElfError(Exception):
    pass


class Elf64:
    """Just enough of a little-endian ELF64 reader for the version tables."""

    def __init__(self, data: bytes | bytearray):
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise ElfError("not a little-endian 64-bit ELF file")
        self.data = data
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum, _ = struct.unpack_from("<HHH", data, 0x3A)
        if shoff == 0 or shnum == 0:
            raise ElfError("no section headers")
        self.sections = []
        for i in range(shnum):
            (_, sh_type, _, _, sh_offset, sh_size, sh_link, sh_info, _, sh_entsize) = \
                struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
            self.sections.append(dict(type=sh_type, offset=sh_offset, size=sh_size,
                                      link=sh_link, info=sh_info, entsize=sh_entsize))

    def section(self, sh_type):
        return next((s for s in self.sections if s["type"] == sh_type), None)

    def cstr(self, strtab, index):
        start = strtab["offset"] + index
        return self.data[start:self.data.index(b"\0", start)].decode("ascii", "replace")

    def verneed(self):
        """[(file, version name, vna_flags, version index, offset of vna_flags)]"""
        sec = self.section(SHT_GNU_VERNEED)
        if sec is None:
            return []
        strtab = self.sections[sec["link"]]
        out, off = [], sec["offset"]
        for _ in range(sec["info"]):
            _, cnt, vn_file, vn_aux, vn_next = struct.unpack_from("<HHIII", self.data, off)
            aux = off + vn_aux
            for _ in range(cnt):
                _, flags, other, name, vna_next = struct.unpack_from("<IHHII", self.data, aux)
                out.append((self.cstr(strtab, vn_file), self.cstr(strtab, name), flags,
                            other & 0x7FFF, aux + 4))
                aux += vna_next
            if vn_next == 0:
                break
            off += vn_next
        return out

    def verdef_names(self):
        sec = self.section(SHT_GNU_VERDEF)
        if sec is None:
            return set()
        strtab = self.sections[sec["link"]]
        names, off = set(), sec["offset"]
        for _ in range(sec["info"]):
            _, _, _, cnt, _, vd_aux, vd_next = struct.unpack_from("<HHHHIII", self.data, off)
            if cnt:
                name, = struct.unpack_from("<I", self.data, off + vd_aux)
                names.add(self.cstr(strtab, name))
            if vd_next == 0:
                break
            off += vd_next
        return names

    def symbols_with_version(self, index):
        """[(name, st_info offset, st_info, st_shndx)] of dynamic symbols bound to a version index."""
        dynsym, versym = self.section(SHT_DYNSYM), self.section(SHT_GNU_VERSYM)
        if dynsym is None or versym is None:
            return []
        strtab = self.sections[dynsym["link"]]
        out = []
        for i in range(dynsym["size"] // 24):
            ver, = struct.unpack_from("<H", self.data, versym["offset"] + 2 * i)
            if ver & 0x7FFF != index:
                continue
            sym = dynsym["offset"] + 24 * i
            st_name, st_info, _, st_shndx = struct.unpack_from("<IBBH", self.data, sym)
            out.append((self.cstr(strtab, st_name), sym + 4, st_info, st_shndx))
        return out


def system_libstdcxx() -> str | None:
    """The libstdc++.so.6 the dynamic loader would pick, per the ldconfig cache."""
    try:
        listing = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True).stdout
    except OSError:
        listing = ""
    for line in listing.splitlines():
        if line.strip().startswith("libstdc++.so.6 ") and "x86-64" in line and "=>" in line:
            return line.split("=>", 1)[1].strip()
    for path in ("/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
                 "/usr/lib64/libstdc++.so.6"):
        if os.path.exists(path):
            return path
    return None


def system_versions() -> tuple[str | None, set]:
    path = system_libstdcxx()
    if path is None:
        return None, set()
    with open(path, "rb") as f:
        return path, Elf64(f.read()).verdef_names()


def find_libraries(paths):
    seen = set()
    for root in paths:
        if os.path.isfile(root):
            candidates = [root]
        elif os.path.isdir(root):
            candidates = []
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
                if LIBRARY_NAME in filenames:
                    candidates.append(os.path.join(dirpath, LIBRARY_NAME))
        else:
            continue
        for c in candidates:
            real = os.path.realpath(c)
            if real not in seen:
                seen.add(real)
                yield c


def plan(data):
    """What to change: (state, [(offset, old byte, new byte)], detail).
    state is 'clean' (nothing to weaken), 'patched' or 'needs-patch'."""
    elf = Elf64(data)
    edits, detail, patched = [], [], False
    for vfile, vname, flags, index, flags_off in elf.verneed():
        if not vfile.startswith("libstdc++") or vname not in WEAKENABLE:
            continue
        syms = elf.symbols_with_version(index)
        unexpected = [n for n, _, _, shndx in syms if n not in WEAKENABLE[vname] or shndx != 0]
        if unexpected:
            raise ElfError(f"{vname} is needed by real symbols too ({', '.join(unexpected[:5])}); "
                           "weakening it would be unsafe, use a libstdc++ from GCC 13 or newer")
        if flags & VER_FLG_WEAK:
            patched = True
            continue
        new_flags = flags | VER_FLG_WEAK
        edits.append((flags_off, flags & 0xFF, new_flags & 0xFF))  # VER_FLG_WEAK is in the low byte
        detail.append(f"{vname}: vna_flags 0x{flags:x} -> 0x{new_flags:x} (VER_FLG_WEAK) at file offset 0x{flags_off:x}")
        for name, info_off, st_info, _ in syms:
            if st_info >> 4 == STB_GLOBAL:
                new_info = (STB_WEAK << 4) | (st_info & 0xF)
                edits.append((info_off, st_info, new_info))
                detail.append(f"{name}@{vname}: st_info 0x{st_info:02x} -> 0x{new_info:02x} "
                              f"(STB_GLOBAL -> STB_WEAK) at file offset 0x{info_off:x}")
    if edits:
        return "needs-patch", edits, detail
    return ("patched" if patched else "clean"), [], detail


def patch_file(path, edits):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    for off, old, new in edits:
        if data[off] != old:
            raise ElfError(f"unexpected byte at 0x{off:x}")
        data[off] = new
    mode = os.stat(path).st_mode & 0o7777
    shutil.copy2(path, path + ".orig")  # what we are about to change is the original
    # Write a new file and rename it over the old one: a process that has the old
    # library mapped keeps its (unchanged) inode. The new mtime makes MSBuild copy it again.
    fd, tmp = tempfile.mkstemp(prefix=".patching-", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", metavar="PATH", help="libLibTorchSharp.so or a folder to search")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="report only; exit 1 if a file needs patching")
    mode.add_argument("--restore", action="store_true", help="put every <file>.orig back")
    ap.add_argument("--force", action="store_true",
                    help="patch even when the system libstdc++ has the version (e.g. for copying elsewhere)")
    ap.add_argument("--quiet", action="store_true", help="print only changes and problems")
    ap.add_argument("--prefix", default="[patch]", help="prefix of every printed line")
    args = ap.parse_args(argv)

    def say(msg, always=False):
        if always or not args.quiet:
            print(f"{args.prefix} {msg}")

    files = list(find_libraries(args.paths))

    if args.restore:
        for path in files:
            if os.path.exists(path + ".orig"):
                os.replace(path + ".orig", path)
                say(f"restored the original {path}", always=True)
        return 0

    if not files:
        say("no " + LIBRARY_NAME + " found under " + ", ".join(args.paths))
        return 0

    libstdcxx, provided = system_versions()
    missing = {v for v in WEAKENABLE if v not in provided}
    if not missing and not args.force:
        say(f"{libstdcxx} provides {', '.join(sorted(WEAKENABLE))}: TorchSharp loads as shipped, nothing to do")
        return 0
    if missing:
        say(f"{libstdcxx or 'libstdc++.so.6'} lacks {', '.join(sorted(missing))} (GCC 13+); "
            "TorchSharp's native library asks for it only for a marker symbol")

    status = 0
    for path in files:
        try:
            with open(path, "rb") as f:
                state, edits, detail = plan(f.read())
        except (ElfError, OSError, struct.error) as e:
            say(f"ERROR {path}: {e}", always=True)
            status = 2
            continue
        if state == "clean":
            say(f"{path}: needs no weakening")
        elif state == "patched":
            say(f"{path}: already patched")
        elif args.check:
            say(f"{path}: NEEDS PATCH ({'; '.join(detail)})", always=True)
            status = max(status, 1)
        else:
            patch_file(path, edits)
            say(f"patched {path} (original kept as {os.path.basename(path)}.orig):", always=True)
            for line in detail:
                say("    " + line, always=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
