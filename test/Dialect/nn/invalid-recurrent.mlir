// RUN: dinfer-opt %s -split-input-file -verify-diagnostics

func.func @lstm_weights(%x: tensor<5x2x4xf32>, %h: tensor<1x2x3xf32>, %w: tensor<95x1x1xf32>) {
  // expected-error @+1 {{'nn.lstm' op w holds 95 values but the layers need 96}}
  %y, %hn, %cn = nn.lstm %x, %h, %h, %w {input_size = 4 : i64, hidden_size = 3 : i64} : tensor<5x2x4xf32>, tensor<1x2x3xf32>, tensor<1x2x3xf32>, tensor<95x1x1xf32>
  return
}

// -----

func.func @lstm_input_size(%x: tensor<5x2x4xf32>, %h: tensor<1x2x3xf32>, %w: tensor<96x1x1xf32>) {
  // expected-error @+1 {{'nn.lstm' op x has 4 features but input_size is 5}}
  %y, %hn, %cn = nn.lstm %x, %h, %h, %w {input_size = 5 : i64, hidden_size = 3 : i64} : tensor<5x2x4xf32>, tensor<1x2x3xf32>, tensor<1x2x3xf32>, tensor<96x1x1xf32>
  return
}

// -----

func.func @lstm_state(%x: tensor<5x2x4xf32>, %h: tensor<1x2x3xf32>, %w: tensor<192x1x1xf32>) {
  // A bidirectional layer needs a state per direction.
  // expected-error @+1 {{'nn.lstm' op h and c must be [2, 2, 3] (layers * directions, batch, hidden_size), got [1, 2, 3] and [1, 2, 3]}}
  %y, %hn, %cn = nn.lstm %x, %h, %h, %w {input_size = 4 : i64, hidden_size = 3 : i64, bidirectional = true} : tensor<5x2x4xf32>, tensor<1x2x3xf32>, tensor<1x2x3xf32>, tensor<192x1x1xf32>
  return
}

// -----

func.func @lstm_flat_weight(%x: tensor<5x2x4xf32>, %h: tensor<1x2x3xf32>, %w: tensor<96xf32>) {
  // MindSpore's LSTM takes w as [count, 1, 1].
  // expected-error @+1 {{'nn.lstm' op w must have rank 3, got 'tensor<96xf32>'}}
  %y, %hn, %cn = nn.lstm %x, %h, %h, %w {input_size = 4 : i64, hidden_size = 3 : i64} : tensor<5x2x4xf32>, tensor<1x2x3xf32>, tensor<1x2x3xf32>, tensor<96xf32>
  return
}

// -----

func.func @lstm_sizes(%x: tensor<5x2x4xf32>, %h: tensor<1x2x3xf32>, %w: tensor<96x1x1xf32>) {
  // expected-error @+1 {{'nn.lstm' op input_size, hidden_size and num_layers must be positive, got 4, 3, 0}}
  %y, %hn, %cn = nn.lstm %x, %h, %h, %w {input_size = 4 : i64, hidden_size = 3 : i64, num_layers = 0 : i64} : tensor<5x2x4xf32>, tensor<1x2x3xf32>, tensor<1x2x3xf32>, tensor<96x1x1xf32>
  return
}
