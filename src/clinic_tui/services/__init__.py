"""Use cases over a Session. Permission checks live here, not in the UI."""
