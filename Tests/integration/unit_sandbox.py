#!/usr/bin/python3
"""Runs a command the way deploy/fwsessiond.service has systemd run it, without systemd.

systemd is not init on the machines that run the tests, so the unit cannot be started there.
This launcher reproduces what decides whether the binary survives its sandbox: the unit's
seccomp filter (SystemCallFilter= lines in order, each set expanded by `systemd-analyze
syscall-filter`; SystemCallArchitectures=native; MemoryDenyWriteExecute=;
RestrictAddressFamilies=), NoNewPrivileges, an empty capability bounding set, an unprivileged
user and group (DynamicUser=), UMask=, LimitNOFILE=, the working directory and the environment
systemd gives (STATE_DIRECTORY, CONFIGURATION_DIRECTORY, NOTIFY_SOCKET, passed with --env), and
ExecStart= with ${VARIABLES} expanded, and drop-ins (--drop-in, their settings after the unit's):
CapabilityBoundingSet= and AmbientCapabilities= of a capability list (the data plane's
CAP_NET_ADMIN) are kept across the change of user and raised into the ambient set, as systemd
does. Then it execs ExecStart (or --binary in its place).

A call outside the filter kills the process (SCMP_ACT_KILL_PROCESS, SIGSYS), whatever
SystemCallErrorNumber= says: stricter than systemd, so a path that passes here passes there.

It runs as root with Debian's python3 (python3-seccomp):
  unit_sandbox.py --unit deploy/fwsessiond.service [--drop-in FILE]... --uid 61184 --gid 61184 \\
      [--binary PATH] [--env NAME=VALUE]... [--deny SYSCALL]... [--print-filter] [-- EXTRA ARGS]
"""
import argparse
import ctypes
import errno
import os
import re
import resource
import shlex
import subprocess
import sys

import seccomp

AF_MAX = 46  # Linux 6.x; every family at or above it is refused too
FAMILIES = {"AF_UNIX": 1, "AF_LOCAL": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16, "AF_PACKET": 17}
PROT_WRITE, PROT_EXEC, SHM_EXEC = 0x2, 0x4, 0o100000
PR_CAPBSET_DROP, CAP_LAST_CAP = 24, 63
PR_SET_KEEPCAPS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE = 8, 47, 2
CAPABILITIES = {"CAP_NET_ADMIN": 12}
LINUX_CAPABILITY_VERSION_3 = 0x20080522


def service_settings(unit_path, drop_ins=()):
    """The [Service] section's assignments, in order (a key may repeat), the drop-ins' after the
    unit's, as systemd reads them."""
    settings = []
    for path in (unit_path, *drop_ins):
        settings += section_settings(path)
    return settings


def section_settings(path):
    settings, section = [], None
    lines = open(path, encoding="utf-8").read().replace("\\\n", " ").splitlines()
    for line in lines:
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]" and "=" in line:
            key, value = line.split("=", 1)
            settings.append((key.strip(), value.strip()))
    return settings


def expand(name, cache={}):
    """The syscalls of `@set` (recursively, through `systemd-analyze syscall-filter`) or `name`."""
    if not name.startswith("@"):
        return {name.split(":", 1)[0]}
    if name not in cache:
        listing = subprocess.run(["systemd-analyze", "syscall-filter", name], check=True,
                                 capture_output=True, text=True).stdout
        members = set()
        for line in listing.splitlines()[1:]:
            entry = line.strip()
            if entry and not entry.startswith("#"):
                members |= expand(entry)
        if not members:
            raise SystemExit(f"systemd-analyze knows no syscall set {name}")
        cache[name] = members
    return cache[name]


def allowed_syscalls(settings):
    """systemd's reading of SystemCallFilter=: the first line decides allow- or deny-list mode
    (an allow list always includes @default); later lines add (plain) or remove (~) names."""
    allowed, mode = set(), None
    for key, value in settings:
        if key != "SystemCallFilter":
            continue
        if not value:
            allowed, mode = set(), None
            continue
        invert = value.startswith("~")
        names = set()
        for item in value.lstrip("~").split():
            names |= expand(item)
        if mode is None:
            if invert:
                raise SystemExit("deny-list-only SystemCallFilter= is not reproduced here")
            mode = "allow"
            allowed |= expand("@default")
        allowed = allowed - names if invert else allowed | names
    return allowed


def setting(settings, key, default=None):
    values = [value for k, value in settings if k == key]
    return values[-1] if values else default


def syscall_filter(allowed):
    unknown = []
    rules = seccomp.SyscallFilter(defaction=seccomp.KILL_PROCESS)
    for name in sorted(allowed):
        try:
            rules.add_rule(seccomp.ALLOW, name)
        except (RuntimeError, ValueError):
            unknown.append(name)  # not a syscall of this architecture (mmap2, cacheflush, ...)
    return rules, unknown


def restriction_filter(settings):
    """MemoryDenyWriteExecute= and RestrictAddressFamilies=, as systemd builds them: EPERM for a
    mapping that is writable and executable or made executable, EAFNOSUPPORT for other families."""
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    if setting(settings, "MemoryDenyWriteExecute", "no") in ("yes", "true", "1"):
        both = PROT_WRITE | PROT_EXEC
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "mmap", seccomp.Arg(2, seccomp.MASKED_EQ, both, both))
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "mprotect", seccomp.Arg(2, seccomp.MASKED_EQ, PROT_EXEC, PROT_EXEC))
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "pkey_mprotect",
                       seccomp.Arg(2, seccomp.MASKED_EQ, PROT_EXEC, PROT_EXEC))
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "shmat", seccomp.Arg(2, seccomp.MASKED_EQ, SHM_EXEC, SHM_EXEC))
    families = [value for key, value in settings if key == "RestrictAddressFamilies"]
    if families:
        permitted = {FAMILIES[name] for value in families for name in value.split()}
        for family in range(AF_MAX):
            if family not in permitted:
                rules.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.EQ, family))
        rules.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.GE, AF_MAX))
    return rules


def exec_start(settings, env, binary, extra):
    line = setting(settings, "ExecStart")
    if not line:
        raise SystemExit("the unit has no ExecStart=")
    line = line.lstrip("@-:+!")
    expanded = re.sub(r"\$\{(\w+)\}", lambda match: env[match.group(1)], line)
    argv = shlex.split(expanded)
    if binary:
        argv[0] = binary
    return argv + extra


def raise_ambient(libc, capabilities):
    """After the change of user (with KEEPCAPS): the capabilities permitted, effective and
    inheritable, then raised into the ambient set, so the service keeps them across exec."""
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    mask = [0, 0]
    for capability in capabilities:
        mask[capability // 32] |= 1 << (capability % 32)
    data = (Data * 2)(*[Data(m, m, m) for m in mask])
    if libc.capset(ctypes.byref(Header(LINUX_CAPABILITY_VERSION_3, 0)), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")
    for capability in capabilities:
        if libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, capability, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "raising an ambient capability")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unit", required=True)
    parser.add_argument("--drop-in", action="append", default=[], help="a drop-in of the unit (its settings win)")
    parser.add_argument("--uid", type=int, required=True)
    parser.add_argument("--gid", type=int, required=True)
    parser.add_argument("--binary", help="run this instead of ExecStart='s program")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE systemd would set")
    parser.add_argument("--deny", action="append", default=[], help="take a syscall out of the filter (controls)")
    parser.add_argument("--print-filter", action="store_true", help="print the allowed syscalls and exit")
    parser.add_argument("extra", nargs="*", help="arguments appended to ExecStart")
    args = parser.parse_args()

    settings = service_settings(args.unit, args.drop_in)
    allowed = allowed_syscalls(settings) - set(args.deny)
    if args.print_filter:
        print("\n".join(sorted(allowed)))
        return
    if setting(settings, "SystemCallArchitectures") not in (None, "native"):
        raise SystemExit("only SystemCallArchitectures=native is reproduced here")
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    env.update(value.split("=", 1) for value in args.env)
    argv = exec_start(settings, env, args.binary, args.extra)

    nofile = setting(settings, "LimitNOFILE")
    if nofile:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (int(nofile), int(nofile)))
        except ValueError:  # a container may not let even root raise the hard limit: go as high as allowed
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(int(nofile), hard), hard))
    os.umask(int(setting(settings, "UMask", "0022"), 8))
    os.chdir(setting(settings, "WorkingDirectory", "/"))
    libc = ctypes.CDLL(None, use_errno=True)
    bounding = setting(settings, "CapabilityBoundingSet", None)
    kept = {CAPABILITIES[name] for name in (bounding or "").split()}
    if bounding is not None:
        for capability in range(CAP_LAST_CAP + 1):
            if capability not in kept:
                libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)  # EINVAL past the kernel's last: fine
    ambient = {CAPABILITIES[name] for name in (setting(settings, "AmbientCapabilities", "") or "").split()}
    if ambient:
        libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)
    os.setgroups([])
    os.setresgid(args.gid, args.gid, args.gid)
    os.setresuid(args.uid, args.uid, args.uid)
    if ambient:
        raise_ambient(libc, ambient)

    rules, _ = syscall_filter(allowed)
    restrictions = restriction_filter(settings)
    # libseccomp sets NO_NEW_PRIVS before loading (NoNewPrivileges=yes), as the unit does.
    restrictions.load()
    rules.load()
    os.execve(argv[0], argv, env)


if __name__ == "__main__":
    sys.exit(main())
