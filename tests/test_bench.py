"""The bench's own logic that is not timing: counting an export's rows, reading worker memory, planted terms,
believing wrk."""

import random

from bench.__main__ import CsvRecordCounter, memory_kb, parse_wrk
from bench.vocabulary import COMMON_TERM, MEDIUM_TERM, VOCABULARY, sentence


def _records(text: str, chunk_size: int) -> int:
    counter = CsvRecordCounter()
    data = text.encode()
    for start in range(0, len(data), chunk_size):
        counter.feed(data[start : start + chunk_size])
    return counter.records


def test_csv_records_ignore_line_breaks_inside_quoted_fields_whatever_the_chunks():
    text = 'id,summary\r\n1,"two\nlines"\r\n2,"a ""quoted"" word,\nand a comma"\r\n3,plain\r\n'
    for chunk_size in (1, 2, 3, 7, 1000):
        assert _records(text, chunk_size) == 4  # the header and three rows


def test_memory_kb_reads_the_resident_size_and_its_own_and_file_parts():
    status = (
        "Name:\tgunicorn\nVmPeak:\t  300000 kB\nVmHWM:\t   81234 kB\nVmRSS:\t   80000 kB\n"
        "RssAnon:\t   30000 kB\nRssFile:\t   49000 kB\nRssShmem:\t    1000 kB\nThreads:\t5\n"
    )
    assert memory_kb(status) == {"VmRSS": 80000, "RssAnon": 30000, "RssFile": 49000}


def test_planted_terms_are_outside_the_vocabulary_and_land_in_the_sentence():
    assert not any(word.startswith(("hallucin", "procur")) for word in VOCABULARY)
    text = sentence(random.Random(1), 5, 8, plant=(MEDIUM_TERM, COMMON_TERM))
    assert MEDIUM_TERM in text.lower()
    assert COMMON_TERM in text.lower()


WRK_AT_ONE_CONNECTION = """Running 10s test @ http://127.0.0.1:8103/api/v1/insights/outcome-attainment
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    {mean}  186.64ms   1.08s    92.45%
    Req/Sec   318.20     40.00   400.00     80.00%
  Latency Distribution
     50%    2.93ms
     75%    3.10ms
     90%    3.50ms
     99%  968.21ms
  3182 requests in 10.01s, 26.90MB read
Requests/sec:    317.93
Transfer/sec:      2.69MB
"""


def test_latencies_that_cannot_be_true_are_flagged():
    """One connection cannot wait 55 ms for each of 3,182 requests in 10 s; it can wait 3 ms."""
    impossible = parse_wrk(WRK_AT_ONE_CONNECTION.format(mean="55.11ms"))
    possible = parse_wrk(WRK_AT_ONE_CONNECTION.format(mean="3.11ms"))

    assert impossible["inconsistent_latencies"] is True
    assert possible["inconsistent_latencies"] is False
    assert (possible["requests"], possible["p50_ms"], possible["p99_ms"]) == (3182, 2.93, 968.21)
