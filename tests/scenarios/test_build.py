"""The build's promises: a multiboot ELF without toolchain leftovers, a
GRUB ISO that boots to the prompt, user/ code that uses only public
headers, and a symbol table that names functions in backtraces."""
import glob
import os
import re
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from guest import Guest, check  # noqa: E402
import machine  # noqa: E402  tools/machine.py, on the path guest.py set

ELF = os.path.join(ROOT, "build", "kernel.elf")
ISO = os.path.join(ROOT, "build", "webscale.iso")


def test_kernel_is_multiboot_without_notes():
    check(subprocess.run(["grub-file", "--is-x86-multiboot", ELF]).returncode == 0,
          "grub-file does not accept build/kernel.elf as multiboot")
    sections = subprocess.run(["i686-linux-gnu-readelf", "-S", "-W", ELF], capture_output=True,
                              text=True, check=True).stdout
    for bad in (".note.gnu.property", ".comment", ".eh_frame"):
        check(bad not in sections, "%s is in the kernel:\n%s" % (bad, sections))
    check(re.search(r"\.ksyms\s", sections), "no .ksyms section")
    for f in ("kernel.sym", "kernel.asm"):
        check(os.path.getsize(os.path.join(ROOT, "build", f)) > 1000, "build/%s missing" % f)


def test_iso_boots_to_prompt():
    check(os.path.exists(ISO), "build/webscale.iso was not built")
    with Guest(cdrom=ISO) as g:
        g.expect(r"webscale> ", 120)
        check("up " in g.command("uptime"), "uptime failed on the ISO boot", g)
        g.sendline("halt")
        check(g.wait_exit(30) == 0, "halt from the ISO boot", g)


def test_user_code_uses_only_public_headers():
    for path in glob.glob(os.path.join(ROOT, "user", "*.[ch]")):
        for n, line in enumerate(open(path), 1):
            m = re.match(r'\s*#\s*include\s*([<"])([^>"]+)', line)
            if not m:
                continue
            ok = (m.group(1) == "<" and (m.group(2).startswith("webscale/") or
                                         m.group(2) in ("stdint.h", "stddef.h", "stdarg.h",
                                                        "stdbool.h"))) or \
                 (m.group(1) == '"' and m.group(2).startswith("user/"))
            check(ok, "%s:%d includes %s: user/ may use only <webscale/...>"
                  % (os.path.relpath(path, ROOT), n, m.group(2)))


def test_backtrace_names_functions():
    # The fault suite prints exception reports; their backtraces must name
    # the faulting function and its caller from the embedded symbol table.
    with Guest(append="test=fault", icount=True) as g:
        g.wait_exit(120)
        out = g.output
        check(re.search(r"#0 [0-9a-f]{8} divide_by_zero\+0x[0-9a-f]+", out), "no #0 frame", g)
        check(re.search(r"#1 [0-9a-f]{8} thread_start\+0x[0-9a-f]+", out), "no #1 frame", g)


def test_second_compiler_clang():
    # A second compiler keeps the code from leaning on GCC's quirks.
    flags = ["--target=i386-elf", "-march=i386", "-m32", "-ffreestanding", "-fno-pie",
             "-fno-pic", "-fno-stack-protector", "-nostdlib", "-mgeneral-regs-only", "-O2",
             "-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror", "-I" + ROOT,
             "-I" + os.path.join(ROOT, "kernel", "include"), "-DHZ=1000", "-c", "-o", os.devnull]
    files = []
    for pat in ("boot/*.[cS]", "kernel/*.[cS]", "kernel/lib/*.c", "drivers/*.c", "user/*.c",
                "tests/kernel/*.c"):
        files += sorted(glob.glob(os.path.join(ROOT, pat)))
    check(len(files) > 20, "found only %d guest sources" % len(files))
    for f in files:
        p = subprocess.run(["clang"] + flags + [f], capture_output=True, text=True)
        check(p.returncode == 0, "clang fails on %s:\n%s" % (os.path.relpath(f, ROOT), p.stderr))


def test_setup_prints_the_command_when_it_cannot_install():
    # Not root, no sudo, nothing on PATH but id: tools/setup.sh must not
    # try anything, but print the exact apt-get line and stop with an
    # error. As root we drop to nobody, who cannot read a checkout under
    # /root or a 0700 home, so nobody runs a copy in a folder of its own.
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        os.symlink("/usr/bin/id", os.path.join(tmp, "id"))
        script = os.path.join(tmp, "setup.sh")
        shutil.copyfile(os.path.join(ROOT, "tools", "setup.sh"), script)
        os.chmod(script, 0o644)
        drop = (["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
                if os.geteuid() == 0 else [])
        p = subprocess.run(drop + ["env", "PATH=" + tmp, "/bin/sh", script],
                           capture_output=True, text=True, timeout=60, cwd=tmp)
    check(p.returncode == 1, "setup.sh exit %d:\n%s%s" % (p.returncode, p.stdout, p.stderr))
    check(re.search(r"^\s+sudo apt-get update && sudo apt-get install -y "
                    r"--no-install-recommends .*gcc-i686-linux-gnu.*qemu-system-x86", p.stdout, re.M),
          "no exact install command:\n" + p.stdout + p.stderr)


def test_setup_checks_pass_from_a_private_folder():
    # The same check from a checkout nobody else may read, as /root (0700
    # on Debian) or a 0700 home: the tracked files copied into a mkdtemp
    # folder (0700), the set-up test run there from another current
    # directory. It failed before the script was copied out.
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as private:
        os.chmod(private, 0o700)
        clone = os.path.join(private, "webscale")
        for rel in ("tools/setup.sh", "tools/machine.py", "tests/scenarios/test_build.py",
                    "tests/lib/guest.py"):
            os.makedirs(os.path.dirname(os.path.join(clone, rel)), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, rel), os.path.join(clone, rel))
        os.chmod(clone, 0o700)
        code = ("import sys; sys.path.insert(0, %r); import test_build as t; "
                "t.test_setup_prints_the_command_when_it_cannot_install(); print('setup-ok')"
                % os.path.join(clone, "tests", "scenarios"))
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=120, cwd="/")
    check(p.returncode == 0 and "setup-ok" in p.stdout,
          "the set-up check fails from a 0700 folder:\n%s%s" % (p.stdout, p.stderr))


def test_make_run_says_when_its_host_port_is_taken():
    # QEMU refuses a forward from a taken port with one line that scrolls
    # away, and exits 1 like a clean halt: make run checks first.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        p = subprocess.run(["make", "-s", "run-kernel", "NET_TCP_PORT=%d" % port],
                           cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=120)
    finally:
        s.close()
    out = p.stdout + p.stderr
    m = re.search(r"host TCP port %d on 127\.0\.0\.1 is taken .*: make run NET_TCP_PORT=(\d+)"
                  % port, out)
    check(m and p.returncode != 0, "make run-kernel with port %d taken: exit %d\n%s"
          % (port, p.returncode, out[-2000:]))
    check(int(m.group(1)) != port, "it suggests the taken port again")


def test_httpd_prints_the_url_make_run_forwards():
    with Guest(append="http_url=http://127.0.0.1:18080/",
               extra=machine.user_net()) as g:
        g.expect_prompt(60)
        g.sendline("httpd loop")
        g.expect(r"httpd: from the host: curl http://127\.0\.0\.1:18080/", 10)
        g.send("\x03")
        g.expect(r"httpd: stopped", 30)
