"""Read models of the public interface: what its pages show, computed from the merged graph."""
