import numpy as np
import pytest

from epizoo.dataloaders.onehot import (
    as_bytes,
    complement_permutation,
    encode_bytes,
    one_hot_encode,
    reverse_complement,
    reverse_complement_bytes,
    reverse_complement_one_hot,
)


def explicit_one_hot(sequence, alphabet="ACGT", n_value=0.0):
    """The obvious per-base definition, to check the lookup table against."""
    rows = []
    for base in sequence.upper():
        rows.append([1.0 if base == letter else 0.0 for letter in alphabet] if base in alphabet else [n_value] * len(alphabet))
    return np.array(rows, dtype=np.float32)


@pytest.mark.parametrize("alphabet", ["ACGT", "TGCA", "AGCT"])
@pytest.mark.parametrize("n_value", [0.0, 0.25])
def test_encoding_matches_the_per_base_definition(alphabet, n_value):
    rng = np.random.default_rng(0)
    sequence = "".join(rng.choice(list("ACGTacgtNnRYK-"), size=500))
    encoded = one_hot_encode(sequence, alphabet=alphabet, n_value=n_value)
    np.testing.assert_array_equal(encoded, explicit_one_hot(sequence, alphabet, n_value))


def test_channels_first_is_the_transpose_and_batches_keep_their_shape():
    batch = as_bytes("ACGTN" * 4).reshape(2, 10)
    last = encode_bytes(batch)
    first = encode_bytes(batch, channels_first=True)
    assert last.shape == (2, 10, 4) and first.shape == (2, 4, 10)
    np.testing.assert_array_equal(first, np.swapaxes(last, 1, 2))
    assert first.flags.c_contiguous


def test_encoding_fills_a_reused_buffer_in_place():
    out = np.full((3, 4), 7.0, dtype=np.float32)
    result = encode_bytes(as_bytes("ANT"), out=out)
    assert result is out
    np.testing.assert_array_equal(out, explicit_one_hot("ANT"))


def test_non_byte_input_is_refused():
    with pytest.raises(TypeError, match="uint8"):
        encode_bytes(np.array([65, 67], dtype=np.int64))


def test_reverse_complement_of_strings_and_bytes():
    assert reverse_complement("AACGTn") == "nACGTT"
    np.testing.assert_array_equal(
        reverse_complement_bytes(as_bytes("AC").reshape(1, 2)), as_bytes("GT").reshape(1, 2)
    )


@pytest.mark.parametrize("alphabet", ["ACGT", "AGCT"])
def test_one_hot_reverse_complement_equals_encoding_the_reverse_complement(alphabet):
    sequence = "AACCGGTTNACGTAGC"
    x = one_hot_encode(sequence, alphabet=alphabet)
    expected = one_hot_encode(reverse_complement(sequence), alphabet=alphabet)
    np.testing.assert_array_equal(reverse_complement_one_hot(x, alphabet), expected)


def test_extra_channels_are_reversed_but_not_complemented():
    x = np.concatenate([one_hot_encode("ACG"), np.array([[1.0], [2.0], [3.0]], np.float32)], axis=1)
    rc = reverse_complement_one_hot(x)
    np.testing.assert_array_equal(rc[:, 4], [3.0, 2.0, 1.0])
    np.testing.assert_array_equal(rc[:, :4], one_hot_encode("CGT"))


def test_alphabet_without_complements_is_an_error():
    with pytest.raises(ValueError, match="not closed under complement"):
        complement_permutation("ACG")
