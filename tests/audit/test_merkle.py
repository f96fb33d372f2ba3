"""The tree of the sealed audit is RFC 6962's: the reference vectors of Certificate Transparency,
and the compact range the sealer keeps gives the same root as the recursive definition at every
size."""

import hashlib

import pytest

from apps.audit.merkle import EMPTY_ROOT, CompactRange, leaf_hash, node_hash, tree_root

# RFC 6962 test inputs and the tree heads of their first 1..8 leaves (certificate-transparency-go,
# merkle tree tests; the same in Trillian).
INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_the_hashes_are_domain_separated():
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("size", range(1, 9))
def test_the_roots_are_those_of_rfc_6962(size):
    leaves = [leaf_hash(entry) for entry in INPUTS[:size]]
    assert tree_root(leaves).hex() == ROOTS[size - 1]
    tree = CompactRange()
    tree.extend(leaves)
    assert tree.root().hex() == ROOTS[size - 1]


def test_the_compact_range_gives_the_root_at_every_size_and_survives_a_round_trip():
    leaves = [leaf_hash(str(i).encode()) for i in range(70)]
    tree = CompactRange()
    assert tree.root() == EMPTY_ROOT
    for n, leaf in enumerate(leaves, start=1):
        tree.append(leaf)
        assert tree.size == n
        assert len(tree.hashes) == bin(n).count("1")
        assert tree.root() == tree_root(leaves[:n]), n
        again = CompactRange.from_json(tree.size, tree.to_json())
        assert again.root() == tree.root()


def test_a_compact_range_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError):
        CompactRange(3, [b"\x00" * 32])
