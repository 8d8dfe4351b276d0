"""MacAddress: the notations it reads, how it prints, the address bits, and value semantics."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import mac_addresses

from wirelab.wire.mac import BROADCAST, ZERO, MacAddress, mac_from_packed

PACKED = bytes.fromhex("aabbccddeeff")


class TestNotations:
    @pytest.mark.parametrize(
        "text",
        [
            "aa:bb:cc:dd:ee:ff",  # Linux, tcpdump
            "AA:BB:CC:DD:EE:FF",
            "AA-BB-CC-DD-EE-FF",  # Windows, and the course's notes
            "aa-bb-cc-dd-ee-ff",
            "Aa-bB-cC-Dd-eE-Ff",
            "aabb.ccdd.eeff",  # Cisco
            "AABB.CCDD.EEFF",
            "  aa:bb:cc:dd:ee:ff\n",  # pasted with whitespace
        ],
    )
    def test_text_forms(self, text: str) -> None:
        assert MacAddress(text).packed == PACKED

    def test_bytes(self) -> None:
        assert MacAddress(PACKED).packed == PACKED

    def test_int(self) -> None:
        assert MacAddress(0xAABBCCDDEEFF).packed == PACKED
        assert MacAddress(0).packed == bytes(6)
        assert MacAddress(2**48 - 1).packed == b"\xff" * 6
        assert MacAddress(1).packed == b"\x00\x00\x00\x00\x00\x01"

    def test_from_another_mac(self) -> None:
        assert MacAddress(MacAddress(PACKED)).packed == PACKED

    def test_leading_zeros_kept(self) -> None:
        assert MacAddress("00:00:5e:00:53:01").packed == b"\x00\x00\x5e\x00\x53\x01"
        assert str(MacAddress(0x5E005301)) == "00:00:5e:00:53:01"

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "aa:bb:cc:dd:ee",  # five octets
            "aa:bb:cc:dd:ee:ff:00",  # seven
            "aa:bb:cc:dd:ee:fg",  # not hex
            "aa:bb-cc:dd:ee:ff",  # mixed separators
            "aa-bb-cc-dd-ee:ff",
            "a:bb:cc:dd:ee:ff",  # one digit
            "aaa:bb:cc:dd:ee:ff",
            "aabbccddeeff",  # no separators at all
            "aa bb cc dd ee ff",
            "aa.bb.cc.dd.ee.ff",
            "aabb.ccdd.eef",  # Cisco, short
            "aabb.ccdd.eeff.0011",
            "aabb:ccdd:eeff",
            "aa:bb:cc:dd:ee:ff\nx",
            "aa:bb:cc:dd:ee:\u0661\u0662",  # Arabic-Indic digits are digits, not hex
            "\uff10a:bb:cc:dd:ee:ff",  # full-width zero
        ],
    )
    def test_bad_strings_raise_value_error(self, text: str) -> None:
        with pytest.raises(ValueError, match="not a MAC address"):
            MacAddress(text)

    @pytest.mark.parametrize("packed", [b"", b"\x00" * 5, b"\x00" * 7])
    def test_wrong_byte_count_raises_value_error(self, packed: bytes) -> None:
        with pytest.raises(ValueError, match="6 bytes"):
            MacAddress(packed)

    @pytest.mark.parametrize("value", [-1, 2**48])
    def test_int_out_of_range_raises_value_error(self, value: int) -> None:
        with pytest.raises(ValueError, match="48 bits"):
            MacAddress(value)

    @pytest.mark.parametrize("value", [1.5, None, [0xAA] * 6])
    def test_other_types_raise_type_error(self, value: object) -> None:
        with pytest.raises(TypeError):
            MacAddress(value)  # type: ignore[arg-type]


class TestDisplay:
    def test_str_is_lower_case_colons(self) -> None:
        assert str(MacAddress("AA-BB-CC-DD-EE-FF")) == "aa:bb:cc:dd:ee:ff"

    def test_format_dash_is_the_course_notation(self) -> None:
        mac = MacAddress("aa:bb:cc:0d:0e:0f")
        assert format(mac, "-") == "AA-BB-CC-0D-0E-0F"
        assert f"{mac:-}" == "AA-BB-CC-0D-0E-0F"

    def test_format_default_and_width(self) -> None:
        mac = MacAddress(PACKED)
        assert format(mac) == "aa:bb:cc:dd:ee:ff"
        assert f"{mac}" == "aa:bb:cc:dd:ee:ff"
        assert f"[{mac:>19}]" == "[  aa:bb:cc:dd:ee:ff]"

    def test_repr_evaluates_back(self) -> None:
        mac = MacAddress(PACKED)
        assert repr(mac) == "MacAddress('aa:bb:cc:dd:ee:ff')"
        assert eval(repr(mac), {"MacAddress": MacAddress}) == mac

    def test_int_and_bytes(self) -> None:
        mac = MacAddress("aa:bb:cc:dd:ee:ff")
        assert int(mac) == 0xAABBCCDDEEFF
        assert bytes(mac) == PACKED
        assert mac.oui == b"\xaa\xbb\xcc"

    @given(st.binary(min_size=6, max_size=6))
    def test_every_notation_reads_back(self, packed: bytes) -> None:
        mac = MacAddress(packed)
        cisco = ".".join(packed.hex()[i : i + 4] for i in (0, 4, 8))
        for text in (str(mac), format(mac, "-"), cisco, packed.hex(":").upper()):
            assert MacAddress(text) == mac
        assert MacAddress(int(mac)) == mac
        assert MacAddress(bytes(mac)) == mac


class TestAddressBits:
    """The I/G bit (first octet, bit 0) and the U/L bit (first octet, bit 1), IEEE 802 §8.2."""

    def test_broadcast(self) -> None:
        mac = MacAddress("ff:ff:ff:ff:ff:ff")
        assert mac.is_broadcast
        assert mac.is_multicast  # broadcast is the all-stations group
        assert not mac.is_unicast
        assert mac == BROADCAST

    @pytest.mark.parametrize(
        "text",
        ["01:00:5e:00:00:fb", "33:33:00:00:00:01", "01:80:c2:00:00:00", "03:00:00:00:00:00", "ff:ff:ff:ff:ff:fe"],
    )
    def test_multicast(self, text: str) -> None:
        mac = MacAddress(text)
        assert mac.is_multicast
        assert not mac.is_unicast
        assert not mac.is_broadcast

    @pytest.mark.parametrize(
        "text", ["00:1a:2b:3c:4d:5e", "02:00:00:00:00:01", "fe:ff:ff:ff:ff:ff", "00:00:00:00:00:00"]
    )
    def test_unicast(self, text: str) -> None:
        mac = MacAddress(text)
        assert mac.is_unicast
        assert not mac.is_multicast
        assert not mac.is_broadcast

    @pytest.mark.parametrize(
        ("text", "local"),
        [
            ("02:00:00:00:00:01", True),
            ("06:00:00:00:00:01", True),
            ("fe:00:00:00:00:01", True),
            ("03:00:00:00:00:01", True),  # a locally administered group address
            ("00:1a:2b:3c:4d:5e", False),
            ("fd:00:00:00:00:01", False),
            ("01:00:5e:00:00:01", False),
        ],
    )
    def test_locally_administered(self, text: str, local: bool) -> None:
        assert MacAddress(text).is_locally_administered is local

    @given(mac_addresses())
    def test_bits_match_the_first_octet(self, mac: MacAddress) -> None:
        first = mac.packed[0]
        assert mac.is_multicast is bool(first & 0x01)
        assert mac.is_unicast is not mac.is_multicast
        assert mac.is_locally_administered is bool(first & 0x02)
        assert mac.is_broadcast is (mac.packed == b"\xff" * 6)

    def test_zero(self) -> None:
        assert ZERO.packed == bytes(6)
        assert str(ZERO) == "00:00:00:00:00:00"


class TestValueSemantics:
    def test_equal_across_notations_and_hash_alike(self) -> None:
        forms = [
            MacAddress("aa:bb:cc:dd:ee:ff"),
            MacAddress("AA-BB-CC-DD-EE-FF"),
            MacAddress("aabb.ccdd.eeff"),
            MacAddress(PACKED),
            MacAddress(0xAABBCCDDEEFF),
        ]
        assert all(form == forms[0] for form in forms)
        assert len({hash(form) for form in forms}) == 1
        assert len(set(forms)) == 1
        assert {forms[0]: "port 1"}[forms[3]] == "port 1"

    def test_different_addresses_differ(self) -> None:
        assert MacAddress("aa:bb:cc:dd:ee:ff") != MacAddress("aa:bb:cc:dd:ee:fe")
        assert len({MacAddress(n) for n in range(100)}) == 100

    def test_not_equal_to_other_types(self) -> None:
        mac = MacAddress(PACKED)
        assert mac != "aa:bb:cc:dd:ee:ff"
        assert mac != PACKED
        assert mac != 0xAABBCCDDEEFF

    def test_ordering_is_numeric(self) -> None:
        macs = [MacAddress(n) for n in (0xFF0000000000, 0x01, 0x0100, 0x00FF00000000)]
        assert [int(mac) for mac in sorted(macs)] == [0x01, 0x0100, 0x00FF00000000, 0xFF0000000000]

    def test_immutable(self) -> None:
        mac = MacAddress(PACKED)
        with pytest.raises(AttributeError):
            mac.packed = bytes(6)  # type: ignore[misc]
        assert mac.packed == PACKED

    def test_pickles(self) -> None:
        mac = MacAddress(PACKED)
        assert pickle.loads(pickle.dumps(mac)) == mac

    def test_mac_from_packed_is_cached_and_equal(self) -> None:
        assert mac_from_packed(PACKED) == MacAddress(PACKED)
        assert mac_from_packed(PACKED) is mac_from_packed(bytes(PACKED))
