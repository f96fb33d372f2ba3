"""The Merkle tree hash of RFC 6962 / RFC 9162 (Certificate Transparency, Trillian): the sealed
audit is a log of leaves whose tree head a checkpoint signs.

- leaf hash  = SHA-256(0x00 || entry bytes)
- node hash  = SHA-256(0x01 || left || right)
- the tree of n > 1 leaves splits at k, the largest power of two smaller than n: MTH(D[n]) =
  node(MTH(D[0:k]), MTH(D[k:n])); the empty tree's hash is SHA-256 of nothing.

`CompactRange` is the log's head kept between runs (Trillian's compact range): the roots of the
perfect subtrees that the binary digits of the size name, largest first, at most 64 hashes
whatever the size. Appending a leaf merges equal subtrees as a binary counter carries, so sealing
costs O(log n) a leaf and never reads old leaves; `root()` folds them from the right, which is
exactly MTH of RFC 6962 (the split at the largest power of two is the leftmost subtree).

Pure functions on bytes: no Django here.
"""

import hashlib
from collections.abc import Iterable

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def tree_root(leaf_hashes: list[bytes]) -> bytes:
    """MTH of RFC 6962 §2.1 by its recursive definition (the reference the compact range is tested against)."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = 1 << ((n - 1).bit_length() - 1)  # the largest power of two smaller than n
    return node_hash(tree_root(leaf_hashes[:k]), tree_root(leaf_hashes[k:]))


class CompactRange:
    """The perfect-subtree roots of a log of `size` leaves, largest (leftmost) first."""

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)
        if len(self.hashes) != bin(size).count("1"):
            raise ValueError(
                f"a compact range of {size} leaves has {bin(size).count('1')} hashes, not {len(self.hashes)}"
            )

    def append(self, leaf: bytes) -> None:
        self.hashes.append(leaf)
        # Each trailing 1 bit of the old size is a subtree as tall as the one being carried.
        size = self.size
        while size & 1:
            right = self.hashes.pop()
            self.hashes[-1] = node_hash(self.hashes[-1], right)
            size >>= 1
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        root = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            root = node_hash(left, root)
        return root

    def copy(self) -> "CompactRange":
        return CompactRange(self.size, self.hashes)

    def to_json(self) -> list[str]:
        return [h.hex() for h in self.hashes]

    @classmethod
    def from_json(cls, size: int, hashes: list[str]) -> "CompactRange":
        return cls(size, [bytes.fromhex(h) for h in hashes])
