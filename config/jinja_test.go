package config

import (
	"strings"
	"testing"
)

func TestRenderLikeDBT(t *testing.T) {
	r := &renderer{env: env(map[string]string{
		"SET": "value", "EMPTY": "", "NUM": "42", "TOKEN_LIKE": "dapi123", EnvToken: "printed-earlier",
	})}
	cases := []struct {
		src, want string
		read      []string
		err       string // a substring of the error, when one is expected
	}{
		{src: "plain, {not jinja}", want: "plain, {not jinja}"},
		{src: "{{ env_var('SET') }}", want: "value", read: []string{"SET"}},
		{src: "{{ env_var('EMPTY', 'default') }}", want: "", read: []string{"EMPTY"}},
		{src: "{{ env_var('UNSET', 'default') }}", want: "default", read: []string{"UNSET"}},
		{src: "{{ env_var('UNSET', default='kw') }}", want: "kw"},
		{src: "{{ env_var('UNSET', 8020) }}", want: "8020"},
		{src: "{{ env_var('UNSET', env_var('SET')) }}", want: "value", read: []string{"SET", "UNSET"}},
		{src: "{{ env_var('UNSET') }}", err: "UNSET is not set"},
		{src: "{{ env_var('UNSET', none) }}", err: "UNSET is not set"},
		{src: "{{ env_var() }}", err: "needs the variable's name"},
		{src: "{{ env_var('A', 'b', 'c') }}", err: "at most one default"},
		{src: "{{ env_var('DATABRICKS_TOKEN') }}", want: "", read: []string{EnvToken}},
		{src: "{{ var('x', 'fallback') }}", want: "fallback"},
		{src: "{{ var('x', default=3) }}", want: "3"},
		{src: "{{ var('x') }}", err: "var('x') has no default"},
		{src: "a-{{ env_var('SET') }}-{{ env_var('NUM') }}-b", want: "a-value-42-b", read: []string{"SET", "NUM"}},
		{src: "{{ env_var('NUM') | as_number }}", want: "42"},
		{src: "{{ env_var('NUM') | int + 1 }}", want: "43"},
		{src: "{{ '1_000' | as_number }}/{{ '2.5' | as_number }}/{{ '0x1f' | as_number }}", want: "1000/2.5/31"},
		{src: "{{ env_var('TOKEN_LIKE') | as_number }}", err: "as_number got a value that is not a number"},
		{src: "{{ 'True' | as_bool }}", want: "True"},
		{src: "{{ 'yes' | as_bool }}", err: "as_bool"},
		{src: "{{ 42 | as_text }}", want: "42"},
		{src: "{{ '  MiXed ' | trim | lower | replace('mixed', 'ok') }}", want: "ok"},
		{src: "{% if env_var('SET') == 'value' %}yes{% else %}no{% endif %}", want: "yes"},
		{src: "{# a comment #}kept", want: "kept"},
		{src: "{{ env_var('SET') | no_such_filter }}", err: "no_such_filter"},
		{src: "{{ 'x' }", err: "Jinja syntax"},
		{src: "{% include '/etc/passwd' %}", err: "Jinja"},
		{src: "{{ range(3) }}", err: "range is not callable"},
	}
	for _, c := range cases {
		got, err := r.render(c.src)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("render(%q) = %q, %v; want an error mentioning %q", c.src, got, err, c.err)
			}
			if err != nil && strings.Contains(err.Error(), "dapi123") {
				t.Errorf("render(%q) error %q quotes a variable's value", c.src, err)
			}
		case err != nil || got != c.want:
			t.Errorf("render(%q) = %q, %v; want %q", c.src, got, err, c.want)
		case c.read != nil && strings.Join(r.read, ",") != strings.Join(c.read, ","):
			t.Errorf("render(%q) read %q, want %q", c.src, r.read, c.read)
		}
	}
}
