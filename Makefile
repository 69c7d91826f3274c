.PHONY: setup test
# Everything on a fresh machine, then `autopatch doctor` and the demo job.
setup:
	bash scripts/setup.sh
# The whole test suite (sets up the packages and models first if needed).
test:
	bash scripts/test.sh
