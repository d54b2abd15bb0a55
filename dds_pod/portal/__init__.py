"""The public interface's read model: what a citizen's pages show, read from the merged graph.

The pages need people's words, not IRIs: a platform's name, a space's title, a topic's label (with the topics of
other platforms aligned to it), and of every text the version in the reader's language, else another one marked
with its language. :mod:`.reads` holds every SPARQL query the interface runs; the other modules shape what they
return into plain objects the web layer renders.
"""
