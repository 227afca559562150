import sys

from productizar.cli import main

sys.exit(main())
