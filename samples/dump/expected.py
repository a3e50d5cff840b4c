#!/usr/bin/env python3
"""Describe a restored tree as JSON (used by make-fixtures.sh).

Keys are relative paths decoded as latin1 (byte for byte, like Entry.path).
Per path: type, mode (& 0o7777), uid, gid, size (files and symlinks), mtime,
sha256 (files), target (symlinks, latin1), links (sorted '|'-joined names
sharing a non-directory inode with nlink > 1), blocks (512-byte units),
rdev [major, minor] (devices), xattrs {name: hex}.
"""
import hashlib, json, os, stat, sys

root = os.fsencode(sys.argv[1])
out = {}
inodes = {}
for dirpath, dirnames, filenames in os.walk(root):
    dirnames.sort()
    for name in sorted(dirnames + filenames):
        full = os.path.join(dirpath, name)
        rel = os.path.relpath(full, root).decode('latin1')
        st = os.lstat(full)
        m = st.st_mode
        t = ('dir' if stat.S_ISDIR(m) else 'file' if stat.S_ISREG(m) else 'symlink' if stat.S_ISLNK(m)
             else 'fifo' if stat.S_ISFIFO(m) else 'char' if stat.S_ISCHR(m) else 'block' if stat.S_ISBLK(m) else 'socket')
        n = {'type': t, 'mode': stat.S_IMODE(m), 'uid': st.st_uid, 'gid': st.st_gid,
             'size': st.st_size if t in ('file', 'symlink') else 0, 'mtime': int(st.st_mtime),
             'blocks': st.st_blocks}
        if t == 'file':
            with open(full, 'rb') as f:
                n['sha256'] = hashlib.sha256(f.read()).hexdigest()
        if t == 'symlink':
            n['target'] = os.readlink(full).decode('latin1')
        if t in ('char', 'block'):
            n['rdev'] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
        if t != 'symlink':
            try:
                xs = {x: os.getxattr(full, x, follow_symlinks=False).hex() for x in sorted(os.listxattr(full, follow_symlinks=False))}
            except OSError:
                xs = {}
            if xs:
                n['xattrs'] = xs
        if t != 'dir' and st.st_nlink > 1:
            inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
        out[rel] = n
for names in inodes.values():
    s = '|'.join(sorted(names))
    for nm in names:
        out[nm]['links'] = s
json.dump(dict(sorted(out.items())), sys.stdout, indent=1, sort_keys=True)
sys.stdout.write('\n')
