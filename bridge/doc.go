// Package bridge is the core of cloud2mqtt: it runs the vendor adapters,
// keeps the state of every device, publishes it to MQTT with Home Assistant
// discovery (the contract in docs: topics, payloads), and carries commands
// from MQTT to the adapters. It knows no vendor by name.
//
// Behaviour worth knowing:
//
//   - Device state is published retained at QoS 0, only when a value changed
//     (last_seen alone never triggers a publish); several changes before the
//     publisher runs go out once, with the latest state. QoS 0 is enough
//     because the state is idempotent and everything is published again after
//     every reconnect; it spares a round trip per update for 10 000 devices.
//     Availability, discovery configs, bridge topics and results use QoS 1.
//   - Availability is published once an adapter reported it; an unknown
//     availability publishes nothing (Home Assistant shows the device
//     unavailable until the adapter says otherwise).
//   - A device reported by two accounts is one device; commands go to the
//     account that reported it last and is not stopped. It is removed (empty
//     retained payloads, device_removed) when no account has it any more.
//     device_added is sent for devices that appear after an account's first
//     inventory.
//   - Commands are validated against the entity before any adapter call. A
//     /set object with several keys is validated as a whole, executed key by
//     key in order (stopping at the first failure) and answered by one result.
//     TOGGLE is resolved from the cached state when the command runs.
//     color_temp is kelvin; a value below 1000 is taken as mireds. Retained
//     commands are refused (RETAINED_COMMAND); an empty /set payload (how a
//     retained command is cleared) is ignored. A QoS 1 message the broker
//     delivers again with DUP set is not executed twice.
//   - Commands for unknown devices that arrive before every account sent its
//     first inventory (the persistent session delivers them right after a
//     restart) wait for the inventories, at most CommandTimeout.
//   - The start-up sweep clears retained configs this instance owns whose
//     device is gone, once every account of the device's vendor has sent an
//     inventory (or at once when no account of that vendor is configured).
package bridge
