package apiserver

// A request that carries an object runs deep: decoding a pod's protobuf
// (VolumeSource.Unmarshal's frames), validating and encoding it need more
// stack than a new goroutine starts with (net/http's HTTP/2 server runs
// each request on a new one), and the runtime then grows the stack at
// that depth, copying it and adjusting every frame's pointers, once or
// more per request: 5.5% of regis's CPU in a profile of the side-by-side
// create load (docs/performance.md). Growing the stack once at the
// request's start, while its frames are few, makes that copy cheap: 12
// KiB more left 1.6% for the growth and 0.5% for what still grows later
// (32 KiB cost more to clear and allocate than it saved); the garbage
// collector shrinks an unused stack back, as any other.

// writeStackBytes is how much more stack a write request asks for at
// its start.
const writeStackBytes = 12 << 10

// growStack makes the calling goroutine's stack hold writeStackBytes more
// than it uses now.
//
//go:noinline
func growStack(i uint) byte {
	var buf [writeStackBytes]byte
	buf[i%writeStackBytes] = byte(i)
	return buf[(i/2)%writeStackBytes]
}
