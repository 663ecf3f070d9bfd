package camera

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindStable(t *testing.T) {
	dev := t.TempDir()
	byID := filepath.Join(dev, "v4l", "by-id")
	if err := os.MkdirAll(byID, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"video0", "video1", "video2"} {
		if err := os.WriteFile(filepath.Join(dev, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A camera has a capture node and a metadata node.
	link := filepath.Join(byID, "usb-Acme_Gate_Cam_0001-video-index0")
	must(t, os.Symlink("../../video2", link))
	must(t, os.Symlink("../../video3", filepath.Join(byID, "usb-Acme_Gate_Cam_0001-video-index1")))
	must(t, os.Symlink("../../video1", filepath.Join(byID, "usb-Other_Cam-video-index0")))

	if got := findStable(byID, filepath.Join(dev, "video2")); got != link {
		t.Errorf("findStable(video2) = %q, want %q", got, link)
	}
	if got := findStable(byID, filepath.Join(dev, "video0")); got != "" {
		t.Errorf("findStable(video0) = %q, want none", got)
	}
	if got := findStable(byID, link); got != link {
		t.Errorf("a by-id path is its own stable path: got %q", got)
	}
	if got := findStable(byID, filepath.Join(dev, "video9")); got != "" {
		t.Errorf("findStable(missing) = %q", got)
	}
	if got := findStable(filepath.Join(dev, "none"), filepath.Join(dev, "video2")); got != "" {
		t.Errorf("no by-id folder: got %q", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
