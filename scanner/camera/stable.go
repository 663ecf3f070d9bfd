package camera

import (
	"os"
	"path/filepath"
)

// byIDDir holds udev's stable links to video devices, named after the
// camera's USB vendor, product and serial number.
const byIDDir = "/dev/v4l/by-id"

// findStable returns the link in dir that leads to the same device as
// path, or "" when there is none. A path already in dir is its own answer.
func findStable(dir, path string) string {
	if filepath.Dir(path) == filepath.Clean(dir) {
		return path
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return ""
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range entries { // in name order, so the choice is stable
		link := filepath.Join(dir, e.Name())
		if t, err := filepath.EvalSymlinks(link); err == nil && t == target {
			return link
		}
	}
	return ""
}
