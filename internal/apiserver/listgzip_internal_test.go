package apiserver

import (
	"bytes"
	"compress/gzip"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"testing"
)

func TestCRC32Combine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {3, 5}, {1000, 70000}, {65535, 65536}, {12, 1 << 20}} {
		a, b := make([]byte, n[0]), make([]byte, n[1])
		for i := range a {
			a[i] = byte(rng.Uint32())
		}
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		want := crc32.ChecksumIEEE(append(append([]byte(nil), a...), b...))
		if got := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(len(b))); got != want {
			t.Errorf("%v: %08x, want %08x", n, got, want)
		}
	}
}

// TestGzippedListParts assembles gzip members from parts of all sizes
// (a head over one stored block, an empty tail) and decodes them.
func TestGzippedListParts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range [][3]int{{10, 200000, 4}, {70000, 1, 0}, {0, 300000, 3}, {140000, 1 << 20, 70000}} {
		parts := make([][]byte, 3)
		for i := range parts {
			parts[i] = make([]byte, n[i])
			for j := range parts[i] {
				parts[i][j] = "abcdefgh"[rng.IntN(8)]
			}
		}
		pieces := [][]byte{parts[1][:len(parts[1])/3], parts[1][len(parts[1])/3:]}
		seg, err := compressItems(pieces, len(parts[1]))
		if err != nil {
			t.Fatal(err)
		}
		rec := &bufferWriter{header: make(map[string][]string)}
		cw := newCompressWriter(rec)
		if err := cw.writeGzipped("application/json", parts[0], seg, parts[2]); err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(rec.buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr) // checks the CRC and the length
		if err != nil {
			t.Fatalf("%v: %v", n, err)
		}
		if !bytes.Equal(got, bytes.Join(parts, nil)) {
			t.Fatalf("%v: decoded body differs", n)
		}
		if rec.header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("headers %v", rec.header)
		}
	}
}
