// Command file-publisher joins a LiveKit room as a synthetic participant that publishes a
// pre-encoded VP8 IVF file as its camera and an Opus Ogg file as its microphone,
// looped until it is told to stop. It costs a small fraction of a Chromium publisher, so a
// benchmark measures the recorder, not its publishers.
//
// It prints READY on stdout once both tracks are published, errors on stderr, and leaves
// the room and exits on SIGTERM/SIGINT, when the server disconnects it, with
// --exit-on-stdin-close when its parent goes away, and with --loop=false after one pass.
// One process per publisher: four publishers in one process measured 0.013 cores against
// 0.026 for four processes, too little to be worth a control protocol.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
)

// sourceHash is set at build time (scripts/bootstrap.d/file-publisher.sh) to the hash of
// these sources, so a stale binary is known by asking it.
var sourceHash = "unknown"

type spec struct {
	URL, Token, APIKey, APISecret, Room, Identity, Name, Video, Audio string
	AudioLevel                                                        int
}

func main() {
	var s spec
	flag.StringVar(&s.URL, "url", "", "LiveKit server URL (ws://…)")
	flag.StringVar(&s.Token, "token", "", "access token (or --api-key, --api-secret, --room, --identity)")
	flag.StringVar(&s.APIKey, "api-key", "", "API key to mint a token with")
	flag.StringVar(&s.APISecret, "api-secret", "", "API secret to mint a token with")
	flag.StringVar(&s.Room, "room", "", "room to join (with --api-key)")
	flag.StringVar(&s.Identity, "identity", "", "participant identity (with --api-key)")
	flag.StringVar(&s.Name, "name", "", "participant name (with --api-key; default the identity)")
	flag.StringVar(&s.Video, "video", "", "VP8 IVF file published as the camera")
	flag.StringVar(&s.Audio, "audio", "", "Opus Ogg file (20 ms packets) published as the microphone")
	flag.IntVar(&s.AudioLevel, "audio-level", 20, "audio level sent with each packet, in -dBov (0 loudest, 127 silence)")
	loop := flag.Bool("loop", true, "loop the files until stopped; with --loop=false, send them once and leave")
	lifeline := flag.Bool("exit-on-stdin-close", false, "leave and exit when stdin closes (the parent went away)")
	logLevel := flag.String("log-level", "error", "SDK log level on stderr: debug, info, warn, error")
	version := flag.Bool("version", false, "print the hash of the sources this was built from")
	flag.Parse()
	if *version {
		fmt.Println(sourceHash)
		return
	}
	logger.InitFromConfig(&logger.Config{Level: *logLevel}, "file-publisher")
	lksdk.SetLogger(logger.GetLogger())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	end := func() {
		select {
		case stop <- syscall.SIGTERM:
		default:
		}
	}
	room, err := publish(s, *loop, end)
	if err != nil {
		fatal(err)
	}
	fmt.Println("READY")
	if *lifeline {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			end()
		}()
	}
	<-stop
	go func() {
		// a leave that hangs (the server gone) must not keep us: told to stop, we stop
		time.Sleep(3 * time.Second)
		fatal(errors.New("leaving took over 3 s; exiting without it"))
	}()
	room.Disconnect()
}

// publish joins the room and publishes both files, returning once both are published.
// Without loop, end is called once both have been sent through; so it is when the server
// disconnects us.
func publish(s spec, loop bool, end func()) (*lksdk.Room, error) {
	if s.URL == "" || s.Video == "" || s.Audio == "" {
		return nil, errors.New("--url, --video and --audio are required")
	}
	video, err := loadIVF(s.Video)
	if err != nil {
		return nil, err
	}
	audio, err := loadOgg(s.Audio, s.AudioLevel)
	if err != nil {
		return nil, err
	}
	video.once, audio.once = !loop, !loop
	cb := lksdk.NewRoomCallback()
	cb.OnDisconnected = end
	var room *lksdk.Room
	switch {
	case s.Token != "":
		room, err = lksdk.ConnectToRoomWithToken(s.URL, s.Token, cb, lksdk.WithAutoSubscribe(false))
	case s.APIKey != "" && s.APISecret != "" && s.Room != "" && s.Identity != "":
		name := s.Name
		if name == "" {
			name = s.Identity
		}
		room, err = lksdk.ConnectToRoom(s.URL, lksdk.ConnectInfo{
			APIKey: s.APIKey, APISecret: s.APISecret, RoomName: s.Room,
			ParticipantIdentity: s.Identity, ParticipantName: name,
		}, cb, lksdk.WithAutoSubscribe(false))
	default:
		return nil, errors.New("--token, or --api-key, --api-secret, --room and --identity, are required")
	}
	if err != nil {
		return nil, fmt.Errorf("cannot join: %w", err)
	}
	var sent sync.WaitGroup
	var onSent func()
	if !loop {
		sent.Add(2)
		onSent = sent.Done
		go func() {
			sent.Wait()
			end()
		}()
	}
	tracks := []struct {
		provider lksdk.SampleProvider
		codec    webrtc.RTPCodecCapability
		opts     lksdk.TrackPublicationOptions
	}{
		{video, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
			lksdk.TrackPublicationOptions{Name: "camera", Source: livekit.TrackSource_CAMERA, VideoWidth: video.width, VideoHeight: video.height}},
		{audio, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000},
			lksdk.TrackPublicationOptions{Name: "microphone", Source: livekit.TrackSource_MICROPHONE, DisableDTX: true}},
	}
	for _, t := range tracks {
		track, err := lksdk.NewLocalTrack(t.codec)
		if err == nil {
			provider := t.provider
			track.OnBind(func() {
				if err := track.StartWrite(provider, onSent); err != nil {
					logger.Errorw("cannot start writing", err, "track", t.opts.Name)
				}
			})
			_, err = room.LocalParticipant.PublishTrack(track, &t.opts)
		}
		if err != nil {
			room.Disconnect()
			return nil, fmt.Errorf("cannot publish %s: %w", t.opts.Name, err)
		}
	}
	return room, nil
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "file-publisher:", err)
	os.Exit(1)
}
