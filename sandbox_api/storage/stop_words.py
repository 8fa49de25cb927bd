"""English stop words: too common to say what a text is about.

The Snowball project's English stop word list (snowballstem.org, BSD licence), the list PostgreSQL's
`english` text search configuration drops. SQLite's FTS5 tokenizer keeps these words, so the registry
leaves them out itself where it chooses words to compare (similar cases).
"""

# Written as the list is published, words separated by spaces, rather than as 127 string literals.
ENGLISH_STOP_WORDS = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
    herself it its itself they them their theirs themselves what which who whom this that these those am is
    are was were be been being have has had having do does did doing a an the and but if or because as until
    while of at by for with about against between into through during before after above below to from up
    down in out on off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will just don should now
    """.split()  # noqa: SIM905
)
