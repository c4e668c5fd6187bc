"""hitwatch shared core: settings, message schemas, task names and queues, the store.

The services (crawler -> classifier -> indexer -> notifier, and the webapp) build on this
package and talk to each other only through the tasks and messages defined here.
"""
