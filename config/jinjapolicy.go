package config

import (
	"fmt"
	"strings"
	"unicode"
)

// checkProfileJinja refuses, before the engine runs it, the Jinja that a
// profile has no use for and that could crash or hang the process in ways
// no recover() catches (a Go stack overflow, running out of memory, an
// endless loop):
//
//   - statements other than {% if %}, {% elif %}, {% else %}, {% endif %},
//     {% set %} and {% endset %}: no loops, macros, calls, filter blocks,
//     raw blocks, and no include, import or extends (the engine has none,
//     so nothing can read a file either);
//   - the * operator ('x' * 999999999999 is a string of a terabyte);
//   - slices whose bounds are not small literal numbers (the engine walks
//     every index up to the bound, or allocates for it);
//   - the indent and tojson filters (their width or indent= is allocated
//     as is), and .format() (each {} repeats an argument);
//   - replace, unless called at once with literal strings, the first not
//     empty and the second at most twice as long, and join, unless its
//     separator is a literal string of up to maxJoinSep bytes: with
//     computed arguments one call can ask for a terabyte at once, too fast
//     for render's memory watch;
//   - filters other than profileFilters: the engine looks an unknown
//     filter up among the variables, where {% set %} can put a method;
//   - .append, .insert, .pop and .update, and {% set a.b = ... %}: with
//     them a list or dict can hold itself, and printing or comparing it
//     recurses until the stack overflows;
//   - names starting with __, under which the engine keeps its filters;
//   - more than maxSets {% set %} statements: each can double a string or
//     a list (a ~ a, [l, l]), and real profiles use a handful. render's
//     time and memory bounds catch the rest.
//
// It reads the value the way the engine (github.com/ardanlabs/jinja
// v1.8.0) does: its scanner splits the template into tags, and its
// tokenizer splits each tag into tokens. Both are mirrored below, so what
// is checked here is exactly what the engine runs. An unclosed tag is left
// for the engine to report.
//
// It also reports whether the value is bounded (see boundedTokens), which
// it tells from the same tokens, and the string literals written in it, as
// written: the only names an error may quote (see renderState.quoteName).
func checkProfileJinja(src string) (bounded bool, literals []string, err error) {
	bounded = len(src) <= maxBoundedJinja
	sets := 0
	for _, tag := range scanJinjaTags(src) {
		if tag.kind == '#' {
			continue
		}
		toks := tokenizeJinja(tag.text)
		var err error
		switch tag.kind {
		case '%':
			keyword := statementKeyword(tag.text)
			if keyword == "set" {
				if sets++; sets > maxSets {
					return false, nil, fmt.Errorf("Jinja: a profile value may have at most %d {%% set %%} statements", maxSets)
				}
			}
			bounded = bounded && boundedStatements[keyword]
			err = checkStatement(tag.text, keyword, toks)
		case '{':
			err = checkTokens(toks)
		}
		if err != nil {
			return false, nil, fmt.Errorf("Jinja: %w", err)
		}
		bounded = bounded && boundedTokens(toks)
		for _, t := range toks {
			if t.kind == tokStr {
				literals = append(literals, t.val)
			}
		}
	}
	return bounded, literals, nil
}

// maxSets bounds the {% set %} statements of one value.
const maxSets = 16

const allowedStatements = "{% if %}, {% elif %}, {% else %}, {% endif %} and {% set %}"

func checkStatement(text, keyword string, toks []jinjaToken) error {
	switch keyword {
	case "if", "elif", "else", "endif", "endset":
	case "set":
		// The engine takes what comes before the first = as the target, and
		// a dotted target as an attribute of a dict to set.
		if target, _, ok := strings.Cut(text, "="); ok && strings.Contains(target, ".") {
			return fmt.Errorf("setting an attribute, as in {%% set a.b = ... %%}, is not allowed in a profile")
		}
	case "":
		return fmt.Errorf("a {%% %%} tag must start with a statement, and a profile may use only %s", allowedStatements)
	default:
		return fmt.Errorf("{%% %s %%} is not allowed in a profile: it may use only %s", keyword, allowedStatements)
	}
	return checkTokens(toks)
}

// statementKeyword is the engine's stmtKeyword: the leading letters and
// underscores of the trimmed statement.
func statementKeyword(text string) string {
	text = strings.TrimSpace(text)
	for i, r := range text {
		if !unicode.IsLetter(r) && r != '_' {
			return text[:i]
		}
	}
	return text
}

// maxSliceDigits bounds a slice's literal bounds: the loops and the
// allocations the engine makes for a slice stay in proportion to them.
const maxSliceDigits = 5

// checkTokens checks the tokens of an expression, or of a statement (its
// keyword and target are tokens like any other).
func checkTokens(toks []jinjaToken) error {
	// open holds, for each bracket not yet closed, the bracket and the
	// index of the token after it.
	type bracket struct {
		kind  byte
		start int
		slice bool // a colon directly inside a [ ]
	}
	var open []bracket
	for i, t := range toks {
		next := jinjaToken{}
		if i+1 < len(toks) {
			next = toks[i+1]
		}
		switch {
		case t.kind == tokName && strings.HasPrefix(t.val, "__"):
			return fmt.Errorf("names starting with __ (%s) are not allowed in a profile", t.val)
		case t.kind == tokOp && t.val == "*":
			return fmt.Errorf("the * operator is not allowed in a profile (a repeated string can fill the memory)")
		case t.kind == '|' && next.kind == tokName && (next.val == "indent" || next.val == "tojson"):
			return fmt.Errorf("the %s filter is not allowed in a profile", next.val)
		case t.kind == '|' && next.kind == tokName && !profileFilters[next.val]:
			// The engine would look the name up among the variables too,
			// where {% set %} can put any callable.
			return fmt.Errorf("unknown filter %q: a profile may use the filters of Jinja's engine and dbt's as_bool, as_number, as_text and as_native", next.val)
		case t.kind == '.' && next.kind == tokName && next.val == "format":
			return fmt.Errorf(".format() is not allowed in a profile: join strings with ~")
		case (t.kind == '|' || t.kind == '.') && next.kind == tokName && next.val == "replace":
			if !literalReplace(toks[i+2:]) {
				return fmt.Errorf("replace may only have literal strings as arguments in a profile, the first not empty and the second at most twice as long, as in replace('-', '_')")
			}
		case t.kind == '|' && next.kind == tokName && next.val == "join":
			if !literalJoin(toks[i+2:]) {
				return fmt.Errorf("join may only have a literal string of up to %d characters as its separator in a profile, as in join(',')", maxJoinSep)
			}
		case t.kind == '.' && next.kind == tokName && (next.val == "append" || next.val == "insert" || next.val == "pop" || next.val == "update"):
			return fmt.Errorf(".%s is not allowed in a profile: a profile does not change lists or dicts", next.val)
		case t.kind == '(' || t.kind == '[' || t.kind == '{':
			open = append(open, bracket{kind: t.kind, start: i + 1})
		case t.kind == ':':
			if len(open) == 0 || open[len(open)-1].kind == '(' {
				return fmt.Errorf("a colon outside a slice or dict is not allowed in a profile")
			}
			if open[len(open)-1].kind == '[' {
				open[len(open)-1].slice = true
			}
		case t.kind == ')' || t.kind == ']' || t.kind == '}':
			if len(open) == 0 {
				continue // the engine reports it
			}
			b := open[len(open)-1]
			open = open[:len(open)-1]
			if b.slice && !literalSlice(toks[b.start:i]) {
				return fmt.Errorf("a slice may only have literal numbers of up to %d digits as bounds in a profile, as in [:20] or [1:]", maxSliceDigits)
			}
		}
	}
	for _, b := range open {
		if b.slice {
			return fmt.Errorf("a slice may only have literal numbers of up to %d digits as bounds in a profile, as in [:20] or [1:]", maxSliceDigits)
		}
	}
	return nil
}

// profileFilters are the filters a profile may use: the engine's own but
// indent and tojson, and dbt's as_* (see newGlobals).
var profileFilters = map[string]bool{
	"from_json": true, "fromjson": true, "items": true, "join": true, "default": true, "d": true,
	"trim": true, "lower": true, "upper": true, "title": true, "capitalize": true, "first": true,
	"last": true, "length": true, "count": true, "reverse": true, "sort": true, "unique": true,
	"list": true, "int": true, "float": true, "string": true, "safe": true, "replace": true,
	"round": true, "abs": true, "map": true, "select": true, "reject": true, "selectattr": true,
	"rejectattr": true, "wordcount": true, "escape": true, "e": true, "dictsort": true, "max": true,
	"min": true, "sum": true, "batch": true,
	"as_bool": true, "as_number": true, "as_text": true, "as_native": true,
}

// maxJoinSep bounds join's separator: it is repeated once per item.
const maxJoinSep = 4

// literalReplace reports whether the tokens after replace are its call
// with (old, new[, count]), old and new literal strings, old not empty
// and new at most twice its length, so that the result is at most twice
// as long as the input. replace not called at once, as in
// {% set f = s.replace %}, is not: f could then be called with anything.
func literalReplace(toks []jinjaToken) bool {
	if len(toks) == 0 || toks[0].kind != '(' {
		return false
	}
	if len(toks) < 5 || toks[1].kind != tokStr || toks[2].kind != ',' || toks[3].kind != tokStr {
		return false
	}
	old, repl := literalLen(toks[1].val), literalLen(toks[3].val)
	if old == 0 || repl > 2*old {
		return false
	}
	switch {
	case toks[4].kind == ')':
		return true
	case len(toks) >= 7 && toks[4].kind == ',' && toks[5].kind == tokInt && toks[6].kind == ')':
		return true
	}
	return false
}

// literalJoin reports whether the tokens after join are nothing (the
// empty separator) or a call with a short literal separator.
func literalJoin(toks []jinjaToken) bool {
	if len(toks) == 0 || toks[0].kind != '(' {
		return true
	}
	return len(toks) >= 3 && toks[1].kind == tokStr && toks[2].kind == ')' && literalLen(toks[1].val) <= maxJoinSep
}

// literalLen is the length in bytes of the string a literal, as written
// between its quotes, stands for: the engine turns \n, \t, \\, \' and
// \" into one byte and keeps any other backslash as it is.
func literalLen(raw string) int {
	n := 0
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' && i+1 < len(raw) {
			i++
			if !strings.ContainsRune("nt\\'\"", rune(raw[i])) {
				n++
			}
		}
		n++
	}
	return n
}

// literalSlice reports whether the tokens inside a slice's brackets are
// at most three bounds, each empty, n or -n, n a small integer.
func literalSlice(toks []jinjaToken) bool {
	parts := 1
	for i := 0; i < len(toks); i++ {
		switch t := toks[i]; {
		case t.kind == ':':
			parts++
			if parts > 3 {
				return false
			}
			continue
		case t.kind == tokOp && t.val == "-" && i+1 < len(toks) && toks[i+1].kind == tokInt:
			i++
		case t.kind != tokInt:
			return false
		}
		if len(toks[i].val) > maxSliceDigits {
			return false
		}
		// A bound ends at a colon or at the end.
		if i+1 < len(toks) && toks[i+1].kind != ':' {
			return false
		}
	}
	return true
}

// jinjaTag is one {{ }}, {% %} or {# #} tag of a template: kind is its
// second character, text what is between the delimiters and trim marks.
type jinjaTag struct {
	kind byte
	text string
}

// scanJinjaTags mirrors the engine's scan(): a tag opens at {{, {% or {#
// and closes at the first }}, %} or #} (-}}, -%}, -#} with a trim mark)
// outside quotes; comments have no quotes. A "-" right after the opener
// is a trim mark. The tags up to an unclosed one are returned.
func scanJinjaTags(src string) []jinjaTag {
	var tags []jinjaTag
	for i := 0; i < len(src); {
		if src[i] != '{' || i+1 >= len(src) {
			i++
			continue
		}
		kind := src[i+1]
		var closer string
		switch kind {
		case '{':
			closer = "}}"
		case '%':
			closer = "%}"
		case '#':
			closer = "#}"
		default:
			i++
			continue
		}
		i += 2
		if i < len(src) && src[i] == '-' {
			i++
		}
		start, found := i, false
		for i < len(src) {
			ch := src[i]
			if kind != '#' && (ch == '\'' || ch == '"') {
				i++
				for i < len(src) && src[i] != ch {
					if src[i] == '\\' && i+1 < len(src) {
						i++
					}
					i++
				}
				if i < len(src) {
					i++
				}
				continue
			}
			if ch == '-' && i+2 < len(src) && src[i+1] == closer[0] && src[i+2] == closer[1] {
				tags = append(tags, jinjaTag{kind, src[start:i]})
				i += 3
				found = true
				break
			}
			if i+1 < len(src) && ch == closer[0] && src[i+1] == closer[1] {
				tags = append(tags, jinjaTag{kind, src[start:i]})
				i += 2
				found = true
				break
			}
			i++
		}
		if !found {
			return tags
		}
	}
	return tags
}

// Token kinds of jinjaToken that are not the token's own character.
const (
	tokName  = 'a'
	tokInt   = '0'
	tokFloat = 'f'
	tokStr   = 's'
	tokOp    = 'o' // + - * / % < > = == != <= >= ** //
)

type jinjaToken struct {
	kind byte
	val  string
}

// tokenizeJinja mirrors the engine's tokenizeExpr. Strings, numbers and
// names are read the same way; operators are told apart as far as the
// checks above need; characters the engine skips are skipped.
func tokenizeJinja(s string) []jinjaToken {
	var toks []jinjaToken
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			i++
		case ch == '\'' || ch == '"':
			i++
			start := i
			for i < len(s) && s[i] != ch {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				i++
			}
			val := s[start:min(i, len(s))]
			if i < len(s) {
				i++
			}
			toks = append(toks, jinjaToken{tokStr, val})
		case ch >= '0' && ch <= '9':
			start := i
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			if i+1 < len(s) && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9' {
				i++
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					i++
				}
				if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
					i++
					if i < len(s) && (s[i] == '+' || s[i] == '-') {
						i++
					}
					for i < len(s) && s[i] >= '0' && s[i] <= '9' {
						i++
					}
				}
				toks = append(toks, jinjaToken{tokFloat, s[start:i]})
			} else {
				toks = append(toks, jinjaToken{tokInt, s[start:i]})
			}
		case ch == '_' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z':
			start := i
			for i < len(s) && (s[i] == '_' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9') {
				i++
			}
			toks = append(toks, jinjaToken{tokName, s[start:i]})
		case i+1 < len(s) && (s[i:i+2] == "**" || s[i:i+2] == "//" || s[i:i+2] == "==" || s[i:i+2] == "!=" || s[i:i+2] == "<=" || s[i:i+2] == ">="):
			toks = append(toks, jinjaToken{tokOp, s[i : i+2]})
			i += 2
		case strings.IndexByte(",.:()[]{}|~", ch) >= 0:
			toks = append(toks, jinjaToken{ch, string(ch)})
			i++
		case strings.IndexByte("+-*/%<>=", ch) >= 0:
			toks = append(toks, jinjaToken{tokOp, string(ch)})
			i++
		default:
			i++
		}
	}
	return toks
}
