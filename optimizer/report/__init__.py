"""Pictures: static PNG maps and charts."""
