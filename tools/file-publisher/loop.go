package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/livekit/server-sdk-go/v2/pkg/oggreader"
	"github.com/pion/webrtc/v4/pkg/media"
)

// loop is a sample provider that plays a file's frames, held in memory, round and round.
// Its position follows the wall clock: frame k of a loop of length L is sent at the
// instants t with t mod L = start of frame k (t since the Unix epoch). So every track of
// every publisher, in this process or another, is in phase: a flash file's white frames
// and its audio file's beeps, made the same length, leave at the same instants, and stay
// so however long they loop.
type loop struct {
	frames        [][]byte
	starts        []time.Duration // starts[k]: offset of frame k in the loop; starts[n]: its length
	next          int
	placed        bool
	once          bool // play the file through once from its start, then io.EOF
	played        bool
	level         uint8
	width, height int
}

func (l *loop) OnBind() error   { l.placed = false; return nil }
func (l *loop) OnUnbind() error { return nil }
func (l *loop) Close() error    { return nil }

func (l *loop) CurrentAudioLevel() uint8 { return l.level }

func (l *loop) NextSample(context.Context) (media.Sample, error) {
	n := len(l.frames)
	if l.once {
		if l.played {
			return media.Sample{}, io.EOF
		}
		k := l.next
		l.next = (k + 1) % n
		l.played = l.next == 0
		return media.Sample{Data: l.frames[k], Duration: l.starts[k+1] - l.starts[k]}, nil
	}
	if !l.placed {
		// the first sample after (re)binding is cut short so the next lands on the grid
		l.placed = true
		phase := time.Duration(time.Now().UnixNano() % int64(l.starts[n]))
		k := sort.Search(n, func(i int) bool { return l.starts[i+1] > phase })
		l.next = (k + 1) % n
		return media.Sample{Data: l.frames[k], Duration: l.starts[k+1] - phase}, nil
	}
	k := l.next
	l.next = (k + 1) % n
	return media.Sample{Data: l.frames[k], Duration: l.starts[k+1] - l.starts[k]}, nil
}

// loadIVF reads every frame of a constant-frame-rate VP8 IVF file. Parsed here rather than
// with pion's ivfreader, whose frame timestamps changed units between releases.
func loadIVF(path string) (*loop, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	if len(data) < 32 || string(data[:4]) != "DKIF" || string(data[8:12]) != "VP80" {
		return nil, fmt.Errorf("%s: not a VP8 IVF file", path)
	}
	l := &loop{width: int(le.Uint16(data[12:])), height: int(le.Uint16(data[14:]))}
	rate, scale := int64(le.Uint32(data[16:])), int64(le.Uint32(data[20:])) // pts unit: scale/rate s
	var first, last int64
	for off := int(le.Uint16(data[6:])); off+12 <= len(data); {
		size, pts := int(le.Uint32(data[off:])), int64(le.Uint64(data[off+4:]))
		if off+12+size > len(data) {
			return nil, fmt.Errorf("%s: frame %d is cut short", path, len(l.frames))
		}
		if len(l.frames) == 0 {
			first = pts
		}
		last = pts
		l.frames = append(l.frames, data[off+12:off+12+size])
		off += 12 + size
	}
	n := int64(len(l.frames))
	if n < 2 || last <= first || rate <= 0 || scale <= 0 {
		return nil, fmt.Errorf("%s: needs two frames or more with increasing timestamps", path)
	}
	// n frames, evenly spaced at the file's mean frame interval
	length := (last - first) * n * int64(time.Second) * scale / ((n - 1) * rate)
	for k := int64(0); k <= n; k++ {
		l.starts = append(l.starts, time.Duration(length*k/n))
	}
	return l, nil
}

// loadOgg reads every Opus packet of an Ogg file, skipping the OpusTags header.
func loadOgg(path string, level int) (*loop, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, _, err := oggreader.NewOggReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if level < 0 || level > 127 {
		return nil, fmt.Errorf("audio level %d is not in 0..127", level)
	}
	l := &loop{level: uint8(level), starts: []time.Duration{0}}
	for {
		packet, err := r.ReadPacket()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) && len(l.frames) > 0 {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if bytes.HasPrefix(packet, []byte("OpusTags")) {
			continue
		}
		d, err := oggreader.ParsePacketDuration(packet)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		l.frames = append(l.frames, packet)
		l.starts = append(l.starts, l.starts[len(l.starts)-1]+d)
	}
	if len(l.frames) == 0 {
		return nil, fmt.Errorf("%s: no Opus packets", path)
	}
	return l, nil
}
