"""The kernel's builds: each one's compiler flags and the CPU features those
flags let the compiler use, declared together, once.

``setup.py`` compiles each build with its flags (loading this file by its
path: only the standard library here); ``binsum._backend`` picks a build at
run time only on a CPU with every feature any compiler's flags allow, so a
wheel from either compiler never runs an instruction the CPU lacks. Feature
names are numpy's (``__cpu_features__``, numpy >= 1.26).
"""

from __future__ import annotations

# What every x86-64 CPU with AVX has; GCC's and Clang's -mavx2 allow them all.
_AVX = ("SSE3", "SSSE3", "SSE41", "SSE42", "POPCNT", "AVX")
_AVX512 = ("AVX512F", "AVX512CD", "AVX512BW", "AVX512DQ", "AVX512VL")

#: name -> (the variable that keeps binsum from picking it and every later
#: build, {compiler: flags}, {compiler: CPU features those flags allow}).
#: "unix" is GCC or Clang. From the baseline every CPU runs to the fastest:
#: the same source for x86-64 CPUs with AVX2 (4 doubles a vector) and with
#: AVX-512 (8), built on x86-64 only. Contraction is off in every build.
BUILDS: dict[
    str, tuple[str, dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]
] = {
    "binsum._core": ("", {"msvc": (), "unix": ()}, {"msvc": (), "unix": ()}),
    "binsum._core_avx2": (
        "BINSUM_NO_AVX2",
        {"msvc": ("/arch:AVX2",), "unix": ("-mavx2",)},
        # MSVC's /arch:AVX2 also allows FMA instructions.
        {"msvc": (*_AVX, "AVX2", "FMA3"), "unix": (*_AVX, "AVX2")},
    ),
    "binsum._core_avx512": (
        "BINSUM_NO_AVX512",
        # 512-bit vectors are asked for explicitly: GCC and Clang may
        # otherwise stay at 256 bits.
        {
            "msvc": ("/arch:AVX512",),
            "unix": ("-mavx2", "-mavx512f", "-mprefer-vector-width=512"),
        },
        # GCC's -mavx512f allows AVX-512F alone, Clang's also FMA and F16C;
        # MSVC's /arch:AVX512 allows F, CD, BW, DQ and VL.
        {
            "msvc": (*_AVX, "AVX2", "FMA3", *_AVX512),
            "unix": (*_AVX, "AVX2", "FMA3", "F16C", "AVX512F"),
        },
    ),
}


#: The stable ABI every build is compiled against where the interpreter allows
#: (setup.py): CPython 3.11's, the first whose Limited API has the buffer
#: protocol the kernel takes arrays with; its wheels are tagged ``ABI3_TAG``
#: "-abi3". CPython 3.10 and the free-threaded interpreters (3.13t, 3.14t)
#: get version-specific wheels: the stable ABI of free-threaded builds is
#: planned for CPython 3.15; when cibuildwheel and Cython support it, build
#: cp315t and later against it too.
LIMITED_API = (3, 11)
ABI3_TAG = "cp{}{}".format(*LIMITED_API)


def needs(name: str) -> tuple[str, ...]:
    """The CPU features build ``name`` may use, whichever compiler built it
    (the union over compilers), in a stable order."""
    _, _, allows = BUILDS[name]
    seen: dict[str, None] = {}
    for features in allows.values():
        seen.update(dict.fromkeys(features))
    return tuple(seen)
