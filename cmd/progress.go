package cmd

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// waiting shows that login is waiting for the browser and how long is left:
// a spinner with a countdown on a terminal, a plain line now and then
// otherwise. Stop ends it and clears the spinner line.
type waiting struct {
	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
}

// isTerminal reports whether w is a terminal, looking through the lock
// that shares stderr between the progress display, the opener and logs.
func isTerminal(w io.Writer) bool {
	if l, ok := w.(*lockedWriter); ok {
		w = l.w
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func startWaiting(w io.Writer, deadline time.Time, color bool) *waiting {
	p := &waiting{stop: make(chan struct{})}
	tty := isTerminal(w)
	fmt.Fprintf(w, "Waiting for the browser (Ctrl-C to cancel, times out in %s)...\n", time.Until(deadline).Round(time.Second))
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		frames := `|/-\`
		interval := 30 * time.Second
		if tty {
			interval = 150 * time.Millisecond
		}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-p.stop:
				if tty {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case <-tick.C:
			}
			left := time.Until(deadline).Round(time.Second)
			if left < 0 {
				left = 0
			}
			switch {
			case tty && color:
				fmt.Fprintf(w, "\r\033[36m%c\033[0m waiting for the browser, %s left \033[K", frames[i%4], left)
			case tty:
				fmt.Fprintf(w, "\r%c waiting for the browser, %s left \033[K", frames[i%4], left)
			default:
				fmt.Fprintf(w, "Still waiting for the browser, %s left.\n", left)
			}
		}
	}()
	return p
}

// Stop ends the display; it is safe to call more than once.
func (p *waiting) Stop() {
	p.once.Do(func() {
		close(p.stop)
		p.done.Wait()
	})
}
