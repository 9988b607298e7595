// MQTT return and reason codes as error.type values.

/** MQTT 3.1/3.1.1 CONNACK return codes (non-zero: refused). */
const V3_CONNACK: Record<number, string> = {
  1: 'unacceptable_protocol_version',
  2: 'identifier_rejected',
  3: 'server_unavailable',
  4: 'bad_user_name_or_password',
  5: 'not_authorized',
};

/** MQTT 5 reason codes ≥ 0x80 (errors). */
const V5_REASONS: Record<number, string> = {
  0x80: 'unspecified_error',
  0x81: 'malformed_packet',
  0x82: 'protocol_error',
  0x83: 'implementation_specific_error',
  0x84: 'unsupported_protocol_version',
  0x85: 'client_identifier_not_valid',
  0x86: 'bad_user_name_or_password',
  0x87: 'not_authorized',
  0x88: 'server_unavailable',
  0x89: 'server_busy',
  0x8a: 'banned',
  0x8b: 'server_shutting_down',
  0x8c: 'bad_authentication_method',
  0x8d: 'keep_alive_timeout',
  0x8e: 'session_taken_over',
  0x8f: 'topic_filter_invalid',
  0x90: 'topic_name_invalid',
  0x91: 'packet_identifier_in_use',
  0x92: 'packet_identifier_not_found',
  0x93: 'receive_maximum_exceeded',
  0x94: 'topic_alias_invalid',
  0x95: 'packet_too_large',
  0x96: 'message_rate_too_high',
  0x97: 'quota_exceeded',
  0x98: 'administrative_action',
  0x99: 'payload_format_invalid',
  0x9a: 'retain_not_supported',
  0x9b: 'qos_not_supported',
  0x9c: 'use_another_server',
  0x9d: 'server_moved',
  0x9e: 'shared_subscriptions_not_supported',
  0x9f: 'connection_rate_exceeded',
  0xa0: 'maximum_connect_time',
  0xa1: 'subscription_identifiers_not_supported',
  0xa2: 'wildcard_subscriptions_not_supported',
};

/** error.type of a CONNACK code, or undefined when the connection was accepted. */
export function connackError(code: number, version: number): string | undefined {
  if (version >= 5) return reasonError(code);
  if (code === 0) return undefined;
  return V3_CONNACK[code] ?? `connack_${code}`;
}

/** error.type of an MQTT 5 reason code (3.1.1 SUBACK's 0x80 too), or undefined below 0x80. */
export function reasonError(code: number): string | undefined {
  if (code < 0x80) return undefined;
  return V5_REASONS[code] ?? `reason_0x${code.toString(16)}`;
}
