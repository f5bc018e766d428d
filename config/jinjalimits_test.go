package config

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// Values that double a string, list or dict over and over are refused by
// the {% set %} cap when they repeat it 40 times, and stopped by render's
// memory or time bound when they fit under the cap. The runaway cases are
// sized so that the engine, whose goroutine render abandons and which
// runs on in the test process, ends at a few tens of MiB.
func TestRenderBounds(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	sets := func(init, step string, n int, tail string) string {
		return init + strings.Repeat(step, n) + tail
	}
	capped := []string{
		sets("{% set a = '"+x(10)+"' %}", "{% set a = a ~ a %}", 40, "{{ a|length }}"),
		sets("{% set a = '"+x(10)+"' %}", "{% set a = a + a %}", 40, "{{ a|length }}"),
		sets("{% set a = '"+x(10)+"' %}", "{% set a %}{{a}}{{a}}{% endset %}", 40, "{{ a|length }}"),
		sets("{% set l = [1] %}", "{% set l = l + l %}", 40, "{{ l|length }}"),
		sets("{% set l = [1] %}", "{% set l = [l, l] %}", 40, "{{ l }}"),
		sets("{% set l = [1] %}", "{% set l = [l, l] %}", 40, "{{ l == l }}"),
		sets("{% set a = 'aa' %}", "{% set a = a|replace('a', 'aa') %}", 40, "{{ a|length }}"),
		sets("{% set d = {'a': 1} %}", "{% set d = {'x': d, 'y': d} %}", 40, "{{ d }}"),
	}
	r := &renderer{env: env(nil)}
	for _, src := range capped {
		start := time.Now()
		_, err := r.render(src)
		if err == nil || !strings.Contains(err.Error(), "at most 16 {% set %}") {
			t.Errorf("render(%.50q...) = %v, want the {%% set %%} cap", src, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("render(%.50q...) took %v", src, d)
		}
	}

	const tooMuch, tooLong = "needed more than", "took more than"
	runaway := []struct {
		name, src string
		mem       uint64
		want      string
	}{
		// 1 KiB doubled 15 times: 32 MiB.
		{"a ~ a", sets("{% set a = '"+x(1024)+"' %}", "{% set a = a ~ a %}", 15, "{{ a|length }}"), 4 << 20, tooMuch},
		{"a + a", sets("{% set a = '"+x(1024)+"' %}", "{% set a = a + a %}", 15, "{{ a|length }}"), 4 << 20, tooMuch},
		{"set block", sets("{% set a = '"+x(1024)+"' %}", "{% set a %}{{a}}{{a}}{% endset %}", 15, "{{ a|length }}"), 4 << 20, tooMuch},
		// 64 items doubled 15 times: 2M items.
		{"l + l", sets("{% set l = ["+strings.Repeat("1, ", 63)+"1] %}", "{% set l = l + l %}", 15, "{{ l|length }}"), 4 << 20, tooMuch},
		// 2 characters doubled 24 times: 32 MiB.
		{"replace", "{{ 'aa'" + strings.Repeat("|replace('a', 'aa')", 24) + "|length }}", 2 << 20, tooMuch},
		// A repr of 4^10 dicts: some 10 MiB.
		{"dict repr", sets("{% set d = {'a': 1} %}", "{% set d = {'x': d, 'y': d, 'z': d, 'w': d} %}", 10, "{{ d|string|length }}"), 2 << 20, tooMuch},
		// 4^12 comparisons, with nothing allocated: a tenth of a second
		// or so (some seconds with -race).
		{"l == l", sets("{% set l = [1] %}", "{% set l = [l, l, l, l] %}", 12, "{{ l == l }}"), 64 << 20, tooLong},
	}
	for _, c := range runaway {
		t.Run(c.name, func(t *testing.T) {
			// The heap render measures from must not hold what the
			// abandoned engine of the case before is still making.
			waitForAbandoned(t, runtime.NumGoroutine())
			r := &renderer{env: env(nil), memLimit: c.mem, timeLimit: 20 * time.Millisecond}
			if c.want == tooMuch {
				r.timeLimit = 5 * time.Second
			}
			start := time.Now()
			out, err := r.render(c.src)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("render = %.20q, %v; want an error saying it %s", out, err, c.want)
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("render took %v", d)
			}
		})
	}
}

// waitForAbandoned waits until no more than n goroutines run, so that an
// engine render abandoned is done, and collects its garbage.
func waitForAbandoned(t *testing.T, n int) {
	t.Cleanup(func() {
		for deadline := time.Now().Add(20 * time.Second); runtime.NumGoroutine() > n && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		runtime.GC()
	})
}

// checkProfileJinja tells the common values, which render on the caller's
// goroutine, from the rest, which render on a
// worker, with the same results.
func TestBoundedJinja(t *testing.T) {
	for src, want := range map[string]bool{
		"{{ env_var('DBT_HOST') }}":                                                 true,
		"dbt_{{ env_var('USER', 'dev') | lower }}":                                  true,
		"{% if env_var('X', '') == 'a' %}b{% else %}{{ var('c', 'd') }}{% endif %}": true,
		"{{ env_var('N') | as_number }}":                                            true,
		"{% set a = 'b' %}{{ a }}":                                                  false,
		"{{ 'a' | replace('a', 'aa') }}":                                            false,
		"{{ '%s' % env_var('X') }}":                                                 false,
		"{{ env_var('X') ~ '" + strings.Repeat("y", 300) + "' }}":                   false,
	} {
		if got, _, err := checkProfileJinja(src); err != nil || got != want {
			t.Errorf("checkProfileJinja(%q) = %v, %v; want %v", src, got, err, want)
		}
	}
}
