<?php
// openidd IPC client: PHP 7.0+ with ext-curl (CURLOPT_UNIX_SOCKET_PATH) and ext-json.
//
//   php openidd_client.php auth-url USER_ID   # prints the JSON answer (alipayAuthUrl, serialNo, ...)
//   php openidd_client.php get USER_ID        # the latest binding, or exit 3 when none
//   php openidd_client.php wait SERIAL_NO     # long-polls until the request leaves "pending"
//
// The socket is $OPENIDD_SOCKET or /run/openidd/openidd.sock; PHP-FPM's user must be in group openidd.

final class OpenIddError extends RuntimeException
{
    public $status;
    public $errorCode;

    public function __construct(int $status, string $errorCode, string $message)
    {
        parent::__construct("HTTP $status $errorCode: $message");
        $this->status = $status;
        $this->errorCode = $errorCode;
    }
}

final class OpenIddClient
{
    private $socketPath;

    public function __construct(?string $socketPath = null)
    {
        $this->socketPath = $socketPath ?? (getenv('OPENIDD_SOCKET') ?: '/run/openidd/openidd.sock');
    }

    /** Sends one request; returns the decoded JSON on 200, throws OpenIddError otherwise. */
    public function call(string $method, string $path, ?array $body = null, int $timeout = 90): array
    {
        $curl = curl_init('http://localhost' . $path);
        $options = [
            CURLOPT_UNIX_SOCKET_PATH => $this->socketPath,
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT => $timeout,
        ];
        if ($body !== null) {
            $options[CURLOPT_POSTFIELDS] = json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
            $options[CURLOPT_HTTPHEADER] = ['Content-Type: application/json'];
        }
        curl_setopt_array($curl, $options);
        $raw = curl_exec($curl);
        if ($raw === false) {
            $reason = curl_error($curl);
            curl_close($curl);
            throw new RuntimeException("cannot reach openidd on {$this->socketPath}: $reason");
        }
        $status = curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        curl_close($curl);
        $answer = json_decode($raw, true);
        if (!is_array($answer)) {
            throw new RuntimeException("openidd answered HTTP $status with a body that is not JSON");
        }
        if ($status !== 200) {
            $error = $answer['error'] ?? [];
            throw new OpenIddError($status, $error['code'] ?? 'unknown', $error['message'] ?? '');
        }
        return $answer;
    }

    public function authUrl(string $userId, ?string $serialNo = null): array
    {
        $body = ['userId' => $userId];
        if ($serialNo !== null) {
            $body['serialNo'] = $serialNo;
        }
        // The daemon waits up to platform.timeoutSeconds for the platform; leave room for it.
        return $this->call('POST', '/v1/auth-url', $body, 150);
    }

    /** The latest binding for $userId, or null when there is none yet. */
    public function getBinding(string $userId): ?array
    {
        try {
            return $this->call('GET', '/v1/bindings?userId=' . rawurlencode($userId));
        } catch (OpenIddError $e) {
            if ($e->status === 404) {
                return null;
            }
            throw $e;
        }
    }

    public function waitFor(string $serialNo, int $seconds = 60): array
    {
        return $this->call('GET', '/v1/requests/' . rawurlencode($serialNo) . "?wait=$seconds", null, $seconds + 30);
    }
}

if (PHP_SAPI === 'cli' && realpath($argv[0]) === __FILE__) {
    if ($argc !== 3 || !in_array($argv[1], ['auth-url', 'get', 'wait'], true)) {
        fwrite(STDERR, "usage: php openidd_client.php auth-url USER_ID | get USER_ID | wait SERIAL_NO\n");
        exit(2);
    }
    $client = new OpenIddClient();
    try {
        switch ($argv[1]) {
            case 'auth-url':
                $result = $client->authUrl($argv[2]);
                break;
            case 'get':
                $result = $client->getBinding($argv[2]);
                if ($result === null) {
                    fwrite(STDERR, "no binding for userId {$argv[2]} yet\n");
                    exit(3);
                }
                break;
            default:
                $result = $client->waitFor($argv[2]);
        }
    } catch (OpenIddError $e) {
        fwrite(STDERR, $e->getMessage() . "\n");
        exit($e->status === 404 ? 3 : 1);
    } catch (RuntimeException $e) {
        fwrite(STDERR, $e->getMessage() . "\n");
        exit(1);
    }
    echo json_encode($result, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
}
