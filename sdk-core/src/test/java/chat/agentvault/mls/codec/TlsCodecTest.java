package chat.agentvault.mls.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The TLS presentation language codec of RFC 9420 §2.1, edge cases first. */
class TlsCodecTest {
  private static final HexFormat HEX = HexFormat.of();

  private static final TlsReader.Decoder<Integer> OPTIONAL_U8 = r -> r.optional(TlsReader::u8);
  private static final TlsReader.Decoder<List<Integer>> U16_VECTOR = r -> r.vector(TlsReader::u16);

  private static byte[] h(String hex) {
    return HEX.parseHex(hex);
  }

  private static byte[] varint(long v) {
    return new TlsWriter().varint(v).toByteArray();
  }

  // --- §2.1.2 variable-length integers ---------------------------------------------------------

  @ParameterizedTest
  @CsvSource({
    "0, 00",
    "37, 25",
    "63, 3f",
    "64, 4040",
    "15293, 7bbd",
    "16383, 7fff",
    "16384, 80004000",
    "494878333, 9d7f3e7d",
    "1073741823, bfffffff"
  })
  void varintBoundariesEncodeMinimallyAndRoundTrip(long value, String hex) {
    assertThat(HEX.formatHex(varint(value))).isEqualTo(hex);
    TlsReader r = TlsReader.of(h(hex));
    assertThat(r.varint()).isEqualTo((int) value);
    r.finish();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "4000", // 0 in two bytes
        "403f", // 63 in two bytes
        "80000000", // 0 in four bytes
        "80003fff", // 16383 in four bytes
        "8000003f", // 63 in four bytes
      })
  void nonMinimalVarintsAreRejected(String hex) {
    assertThatThrownBy(() -> TlsReader.of(h(hex)).varint())
        .isExactlyInstanceOf(DecodeException.class)
        .hasMessageContaining("minimal");
  }

  @ParameterizedTest
  @ValueSource(strings = {"c0", "c000000000000000", "ffffffffffffffff", "c000000000000001"})
  void varintPrefix11IsRejected(String hex) {
    assertThatThrownBy(() -> TlsReader.of(h(hex)).varint())
        .isExactlyInstanceOf(DecodeException.class)
        .hasMessageContaining("prefix");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "40", "80", "800040", "bfffff"})
  void truncatedVarintsAreRejected(String hex) {
    assertThatThrownBy(() -> TlsReader.of(h(hex)).varint())
        .isExactlyInstanceOf(DecodeException.class)
        .hasMessageContaining("truncated");
  }

  @ParameterizedTest
  @ValueSource(longs = {-1, 1L << 30, (1L << 30) + 1, Integer.MAX_VALUE, Long.MAX_VALUE, Long.MIN_VALUE})
  void writerRefusesValuesOutsideThirtyBits(long v) {
    TlsWriter w = new TlsWriter();
    assertThatThrownBy(() -> w.varint(v)).isInstanceOf(IllegalArgumentException.class);
    assertThat(w.size()).as("nothing written").isZero();
  }

  @Test
  void everyVarintValueAroundTheBoundariesRoundTrips() {
    for (long base : new long[] {0, 64, 16384, TlsReader.MAX_VARINT - 70}) {
      for (long v = Math.max(0, base - 70); v <= Math.min(TlsReader.MAX_VARINT, base + 70); v++) {
        byte[] enc = varint(v);
        assertThat(enc.length).isEqualTo(v < 64 ? 1 : v < 16384 ? 2 : 4);
        assertThat(TlsReader.decodeAll(enc, TlsReader::varint)).isEqualTo((int) v);
      }
    }
  }

  // --- fixed-width integers ---------------------------------------------------------------------

  @Test
  void fixedWidthIntegersAreBigEndianAndUnsigned() {
    byte[] enc =
        new TlsWriter().u8(0xff).u16(0xfffe).u32(0xfffffffdL).u64(-2L).toByteArray();
    assertThat(HEX.formatHex(enc)).isEqualTo("fffffefffffffdfffffffffffffffe");
    TlsReader r = TlsReader.of(enc);
    assertThat(r.u8()).isEqualTo(0xff);
    assertThat(r.u16()).isEqualTo(0xfffe);
    assertThat(r.u32()).isEqualTo(0xfffffffdL);
    assertThat(r.u64()).isEqualTo(-2L);
    r.finish();
    assertThat(TlsReader.of(h("fffffffd")).u32Bits()).isEqualTo(-3);
    assertThatThrownBy(() -> TlsReader.of(h("80000000")).u32AsInt())
        .isExactlyInstanceOf(DecodeException.class);
    assertThat(TlsReader.of(h("7fffffff")).u32AsInt()).isEqualTo(Integer.MAX_VALUE);
  }

  @Test
  void shortFixedWidthReadsAreRejected() {
    assertThatThrownBy(() -> TlsReader.of(new byte[0]).u8()).isExactlyInstanceOf(DecodeException.class);
    assertThatThrownBy(() -> TlsReader.of(new byte[1]).u16()).isExactlyInstanceOf(DecodeException.class);
    assertThatThrownBy(() -> TlsReader.of(new byte[3]).u32()).isExactlyInstanceOf(DecodeException.class);
    assertThatThrownBy(() -> TlsReader.of(new byte[7]).u64()).isExactlyInstanceOf(DecodeException.class);
    assertThatThrownBy(() -> TlsReader.of(new byte[3]).fixed(4)).isExactlyInstanceOf(DecodeException.class);
    assertThatThrownBy(() -> TlsReader.of(new byte[3]).fixed(-1)).isExactlyInstanceOf(DecodeException.class);
  }

  // --- optional<T> and booleans -----------------------------------------------------------------

  @Test
  void optionalPresenceByteMustBeZeroOrOne() {
    assertThat(TlsReader.decodeAll(h("00"), OPTIONAL_U8)).isNull();
    assertThat(TlsReader.decodeAll(h("0107"), OPTIONAL_U8)).isEqualTo(7);
    for (String bad : List.of("0207", "02", "ff07", "80")) {
      assertThatThrownBy(() -> TlsReader.decodeAll(h(bad), OPTIONAL_U8))
          .as(bad)
          .isExactlyInstanceOf(DecodeException.class)
          .hasMessageContaining("presence");
    }
    assertThatThrownBy(() -> TlsReader.decodeAll(h("01"), OPTIONAL_U8))
        .isExactlyInstanceOf(DecodeException.class);
    assertThat(new TlsWriter().optional(null, TlsWriter::u8).toByteArray()).containsExactly(0);
    assertThat(new TlsWriter().optional(7, TlsWriter::u8).toByteArray()).containsExactly(1, 7);
  }

  @Test
  void booleanMustBeZeroOrOne() {
    assertThat(TlsReader.of(h("00")).bool()).isFalse();
    assertThat(TlsReader.of(h("01")).bool()).isTrue();
    assertThatThrownBy(() -> TlsReader.of(h("02")).bool()).isExactlyInstanceOf(DecodeException.class);
  }

  // --- opaque<V>, T<V>, trailing bytes ------------------------------------------------------------

  @Test
  void decodeAllRejectsTrailingBytes() {
    assertThat(TlsReader.decodeAll(h("0261 62".replace(" ", "")), TlsReader::opaque))
        .isEqualTo(Bytes.of((byte) 'a', (byte) 'b'));
    assertThatThrownBy(() -> TlsReader.decodeAll(h("02616263"), TlsReader::opaque))
        .isExactlyInstanceOf(DecodeException.class)
        .hasMessageContaining("trailing");
    assertThatThrownBy(() -> TlsReader.decodeAll(h("0000"), TlsReader::u8))
        .isExactlyInstanceOf(DecodeException.class);
    assertThatThrownBy(() -> TlsReader.of(h("01")).finish()).isExactlyInstanceOf(DecodeException.class);
  }

  @Test
  void opaqueLongerThanItsInputIsRejected() {
    assertThatThrownBy(() -> TlsReader.of(h("03aabb")).opaque())
        .isExactlyInstanceOf(DecodeException.class)
        .hasMessageContaining("truncated");
    assertThatThrownBy(() -> TlsReader.of(h("bfffffff00")).opaque())
        .isExactlyInstanceOf(DecodeException.class);
  }

  @Test
  void vectorWhoseItemsOverrunItsLengthIsRejected() {
    // Three bytes of u16 items: the second item would read past the vector into what follows.
    assertThatThrownBy(() -> TlsReader.of(h("03000100020000")).vector(TlsReader::u16))
        .isExactlyInstanceOf(DecodeException.class)
        .hasMessageContaining("truncated");
    // An opaque item whose own length runs past the end of the vector (but not of the input).
    assertThatThrownBy(() -> TlsReader.of(h("0203aabbcc")).vector(TlsReader::opaque))
        .isExactlyInstanceOf(DecodeException.class);
    // A vector longer than the input.
    assertThatThrownBy(() -> TlsReader.of(h("050001")).vector(TlsReader::u16))
        .isExactlyInstanceOf(DecodeException.class);
    // Exactly filled vectors decode, and the reader stops at their end.
    TlsReader r = TlsReader.of(h("0400010002ff"));
    assertThat(r.vector(TlsReader::u16)).containsExactly(1, 2);
    assertThat(r.u8()).isEqualTo(0xff);
    r.finish();
    assertThat(TlsReader.decodeAll(h("00"), U16_VECTOR)).isEmpty();
  }

  @Test
  void vectorsAndOpaquesRoundTripWithMinimalLengths() {
    byte[] big = new byte[16384];
    big[16383] = 9;
    byte[] enc = new TlsWriter().opaque(big).toByteArray();
    assertThat(enc).startsWith(0x80, 0x00, 0x40, 0x00);
    assertThat(TlsReader.decodeAll(enc, TlsReader::opaque).toByteArray()).isEqualTo(big);

    List<Integer> items = List.of(1, 2, 3);
    byte[] v = new TlsWriter().vector(items, TlsWriter::u16).toByteArray();
    assertThat(HEX.formatHex(v)).isEqualTo("06000100020003");
    assertThat(TlsReader.decodeAll(v, U16_VECTOR)).isEqualTo(items);
  }

  @Test
  void readerIsBoundedByItsInputNotByClaimedLengths() {
    TlsReader r = TlsReader.of(h("bfffffff"));
    assertThat(r.remaining()).isEqualTo(4);
    assertThatThrownBy(r::opaque).isExactlyInstanceOf(DecodeException.class);
  }
}
