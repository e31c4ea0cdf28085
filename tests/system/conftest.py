"""pytest configuration shared by the system tests.

scripts/check runs the system tests in two pytest workers (pytest-xdist),
then, on their own, the tests marked `alone`: those whose subject is the
switch under load (an upcall storm, the flow limit, a port removed under
a lossless replay), where a second daemon beside them on a two-core
machine slows the revalidators enough to change what the test watches
(the governor lowers the flow limit when rounds take long).
"""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "alone: run with no other system test beside it "
        "(scripts/check runs these after the parallel ones)")
