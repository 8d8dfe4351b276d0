from wirelab.cli import main

raise SystemExit(main())
