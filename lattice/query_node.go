package lattice

// Labels returns a copy of the host's labels, the automatic ones included.
func (n *Node) Labels() map[string]string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return copyMap(n.labels)
}
