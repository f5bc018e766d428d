package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// goreleaser is the part of .goreleaser.yaml that users depend on.
type goreleaser struct {
	Version int `yaml:"version"`
	Builds  []struct {
		Env     []string `yaml:"env"`
		Flags   []string `yaml:"flags"`
		Ldflags []string `yaml:"ldflags"`
		Goos    []string `yaml:"goos"`
		Goarch  []string `yaml:"goarch"`
	} `yaml:"builds"`
	Archives []struct {
		Formats         []string `yaml:"formats"`
		FormatOverrides []struct {
			Goos    string   `yaml:"goos"`
			Formats []string `yaml:"formats"`
		} `yaml:"format_overrides"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
	} `yaml:"checksum"`
	HomebrewCasks []struct {
		Name string `yaml:"name"`
	} `yaml:"homebrew_casks"`
	Scoops []struct {
		Name string `yaml:"name"`
	} `yaml:"scoops"`
}

func readGoreleaser(t *testing.T) goreleaser {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var g goreleaser
	if err := yaml.Unmarshal(b, &g); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	return g
}

func TestGoreleaserShipsEveryPlatform(t *testing.T) {
	g := readGoreleaser(t)
	if g.Version != 2 || len(g.Builds) != 1 {
		t.Fatalf(".goreleaser.yaml: want version 2 with one build, got version %d with %d builds", g.Version, len(g.Builds))
	}
	b := g.Builds[0]
	if !slices.Contains(b.Env, "CGO_ENABLED=0") {
		t.Errorf("build env %v: CGO must be disabled", b.Env)
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		if !slices.Contains(b.Goos, goos) {
			t.Errorf("goos %v lacks %s", b.Goos, goos)
		}
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if !slices.Contains(b.Goarch, arch) {
			t.Errorf("goarch %v lacks %s", b.Goarch, arch)
		}
	}
	if ld := strings.Join(b.Ldflags, " "); !strings.Contains(ld, "-X github.com/dbtdbx/dbtdbx/cmd.Version={{.Version}}") || !strings.Contains(ld, "-s -w") {
		t.Errorf("ldflags %q: want -s -w and the version stamped into cmd.Version", ld)
	}
	if len(g.Archives) != 1 || !slices.Equal(g.Archives[0].Formats, []string{"tar.gz"}) ||
		len(g.Archives[0].FormatOverrides) != 1 || g.Archives[0].FormatOverrides[0].Goos != "windows" ||
		!slices.Equal(g.Archives[0].FormatOverrides[0].Formats, []string{"zip"}) {
		t.Errorf("archives %+v: want tar.gz, and zip on windows", g.Archives)
	}
	if g.Checksum.NameTemplate == "" {
		t.Error("no checksum file")
	}
	if len(g.HomebrewCasks) == 0 || len(g.Scoops) == 0 {
		t.Error("no Homebrew cask or Scoop manifest")
	}
}

// TestReleaseBuildStampsVersion builds dbtdbx with the release's own flags
// and ldflags and checks that both ways of asking print the stamped version.
func TestReleaseBuildStampsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	b := readGoreleaser(t).Builds[0]
	const stamped = "9.8.7-test"
	ldflags := strings.ReplaceAll(strings.Join(b.Ldflags, " "), "{{.Version}}", stamped)
	bin := filepath.Join(t.TempDir(), "dbtdbx")
	args := append([]string{"build"}, b.Flags...)
	build := exec.Command(gobin, append(args, "-ldflags", ldflags, "-o", bin, "..")...)
	build.Env = append(os.Environ(), b.Env...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", build.Args, err, out)
	}
	for _, arg := range []string{"--version", "version"} {
		out, err := exec.Command(bin, arg).Output()
		if err != nil || string(out) != "dbtdbx "+stamped+"\n" {
			t.Errorf("dbtdbx %s: %q, %v; want dbtdbx %s", arg, out, err, stamped)
		}
	}
}
