/**
 * The glossary: the terms of the path in Chinese and English, each with a short definition in
 * both languages and the kata where it first matters. Site content, written here (the katas'
 * READMEs explain the terms at length; this is the bilingual index to them).
 * @module
 */

export interface Term {
  /** Anchor on the glossary page. */
  id: string;
  zh: string;
  en: string;
  def: { zh: string; en: string };
  /** Katas (catalog ids) where the term first matters. */
  katas: number[];
}

export const glossary: Term[] = [
  {
    id: "tensor",
    zh: "张量",
    en: "tensor",
    def: {
      zh:
        "带形状和数据类型的多维数组：标量是 0 维，向量 1 维，矩阵 2 维。TensorFlow.js 的每个运算都以张量为输入和输出。",
      en:
        "A multi-dimensional array with a shape and a data type: a scalar has 0 axes, a vector 1, a matrix 2. Every TensorFlow.js operation takes and returns tensors.",
    },
    katas: [1],
  },
  {
    id: "shape",
    zh: "形状",
    en: "shape",
    def: {
      zh:
        "张量每个轴的长度，例如 `[samples, features]`。大多数错误都先表现为形状不对，所以测试用带名字的维度检查形状。",
      en:
        "The length of each axis of a tensor, such as `[samples, features]`. Most bugs show first as a wrong shape, which is why the tests check shapes with named dimensions.",
    },
    katas: [1],
  },
  {
    id: "broadcasting",
    zh: "广播",
    en: "broadcasting",
    def: {
      zh:
        "形状不同的张量逐元素运算时，从右边对齐各轴，长度为 1 的轴被重复使用。`[n, 1]` 减 `[n]` 会悄悄得到 `[n, n]`。",
      en:
        "How element-wise operations combine tensors of different shapes: axes are lined up from the right and an axis of length 1 is reused. `[n, 1]` minus `[n]` silently gives `[n, n]`.",
    },
    katas: [1],
  },
  {
    id: "reduction",
    zh: "归约",
    en: "reduction",
    def: {
      zh: "`sum`、`mean`、`max` 等沿一个轴合并数值，这个轴随之消失（`keepDims` 时保留为长度 1）。",
      en:
        "`sum`, `mean`, `max` and friends combine values along an axis, which then disappears (or stays with length 1 under `keepDims`).",
    },
    katas: [1],
  },
  {
    id: "matrix-multiplication",
    zh: "矩阵乘法",
    en: "matrix multiplication",
    def: {
      zh:
        "`tf.matMul(x, w)`：`[m, k]` 乘 `[k, n]` 得 `[m, n]`。每一层线性变换都是它；与逐元素相乘 `tf.mul` 不是一回事。",
      en:
        "`tf.matMul(x, w)`: `[m, k]` times `[k, n]` gives `[m, n]`. Every linear layer is one; not to be confused with the element-wise `tf.mul`.",
    },
    katas: [1],
  },
  {
    id: "backend",
    zh: "后端",
    en: "backend",
    def: {
      zh:
        "TensorFlow.js 执行运算的引擎。本道场默认用 WebAssembly 的 `wasm`，约比纯 JavaScript 的 `cpu` 快 20 倍。",
      en:
        "The engine that runs TensorFlow.js operations. The dojo uses WebAssembly (`wasm`) by default, about 20 times faster than pure-JavaScript `cpu`.",
    },
    katas: [1],
  },
  {
    id: "float32",
    zh: "单精度浮点数",
    en: "float32",
    def: {
      zh:
        "TensorFlow.js 的默认数值类型，约 7 位有效数字，没有 float64。因此测试带容差比较，梯度检查也要相应调整步长。",
      en:
        "TensorFlow.js's default number type, about 7 significant digits; there is no float64. So tests compare with a tolerance and gradient checks use a larger step.",
    },
    katas: [1],
  },
  {
    id: "tensor-leak",
    zh: "张量泄漏",
    en: "tensor leak",
    def: {
      zh:
        "创建了却没有释放的张量，一直占着后端内存。`tf.tidy` 会释放函数里的中间张量；测试用 `assertNoLeaks` 检查。",
      en:
        "A tensor created and never disposed, holding backend memory. `tf.tidy` frees a function's intermediate tensors; the tests check with `assertNoLeaks`.",
    },
    katas: [1],
  },
  {
    id: "parameter",
    zh: "参数（权重、偏置）",
    en: "parameter (weight, bias)",
    def: {
      zh: "模型中由训练调整的数，例如 $\\hat y = Xw + b$ 里的权重 $w$ 和偏置 $b$。",
      en:
        "The numbers training adjusts, such as the weight $w$ and the bias $b$ in $\\hat y = Xw + b$.",
    },
    katas: [2],
  },
  {
    id: "linear-regression",
    zh: "线性回归",
    en: "linear regression",
    def: {
      zh: "用直线（或超平面）$\\hat y = Xw + b$ 拟合连续的目标值，通常最小化均方误差。",
      en:
        "Fitting continuous targets with a line (or hyperplane) $\\hat y = Xw + b$, usually by minimising the mean squared error.",
    },
    katas: [2],
  },
  {
    id: "loss",
    zh: "损失函数",
    en: "loss function",
    def: {
      zh: "衡量预测与目标差多远的一个数。训练就是让它变小。",
      en:
        "A single number that measures how far the predictions are from the targets. Training makes it smaller.",
    },
    katas: [2],
  },
  {
    id: "mse",
    zh: "均方误差",
    en: "mean squared error (MSE)",
    def: {
      zh: "$L = \\frac{1}{n}\\sum_i (\\hat y_i - y_i)^2$，回归问题最常用的损失。",
      en: "$L = \\frac{1}{n}\\sum_i (\\hat y_i - y_i)^2$, the usual loss for regression.",
    },
    katas: [2],
  },
  {
    id: "gradient",
    zh: "梯度",
    en: "gradient",
    def: {
      zh:
        "损失对每个参数的偏导数组成的向量 $\\nabla_\\theta L$，指向损失增长最快的方向；沿反方向走一小步，损失就下降。",
      en:
        "The vector of partial derivatives of the loss with respect to each parameter, $\\nabla_\\theta L$. It points where the loss grows fastest; a small step the other way lowers it.",
    },
    katas: [2],
  },
  {
    id: "gradient-descent",
    zh: "梯度下降",
    en: "gradient descent",
    def: {
      zh: "反复执行 $\\theta \\leftarrow \\theta - \\eta \\nabla_\\theta L$ 来最小化损失。",
      en:
        "Minimising the loss by repeating $\\theta \\leftarrow \\theta - \\eta \\nabla_\\theta L$.",
    },
    katas: [2],
  },
  {
    id: "learning-rate",
    zh: "学习率",
    en: "learning rate",
    def: {
      zh: "每一步更新的步长 $\\eta$。太大会发散，太小几乎不动。",
      en: "The step size $\\eta$ of each update. Too large diverges; too small barely moves.",
    },
    katas: [2],
  },
  {
    id: "autodiff",
    zh: "自动求导",
    en: "automatic differentiation",
    def: {
      zh:
        "框架记录前向计算，再按链式法则自动算出梯度（`tf.grad`、`optimizer.minimize`）。练习 02 手写梯度，并与它对照。",
      en:
        "The framework records the forward computation and applies the chain rule for you (`tf.grad`, `optimizer.minimize`). Kata 02 writes a gradient by hand and checks it against autodiff.",
    },
    katas: [2],
  },
  {
    id: "gradient-check",
    zh: "梯度检查（有限差分）",
    en: "gradient check (finite differences)",
    def: {
      zh:
        "用 $\\frac{L(\\theta + \\epsilon) - L(\\theta - \\epsilon)}{2\\epsilon}$ 逐个坐标近似导数，与解析梯度比较。float32 下要用相对 L2 误差和较大的 $\\epsilon$。",
      en:
        "Approximating each derivative by $\\frac{L(\\theta + \\epsilon) - L(\\theta - \\epsilon)}{2\\epsilon}$ and comparing with the analytic gradient. In float32, use a relative L2 error and a larger $\\epsilon$.",
    },
    katas: [2],
  },
  {
    id: "hyperparameter",
    zh: "超参数",
    en: "hyperparameter",
    def: {
      zh: "训练前由人选定、不由梯度更新的设置：学习率、步数、批量大小、层数……",
      en:
        "A setting chosen before training and not updated by gradients: learning rate, number of steps, batch size, number of layers…",
    },
    katas: [2],
  },
  {
    id: "logistic-regression",
    zh: "逻辑回归",
    en: "logistic regression",
    def: {
      zh:
        "线性模型加 sigmoid，输出属于类别 1 的概率，用二元交叉熵训练。名字里有“回归”，做的却是分类。",
      en:
        "A linear model followed by a sigmoid, giving the probability of class 1, trained with binary cross-entropy. A classifier, despite its name.",
    },
    katas: [3],
  },
  {
    id: "logit",
    zh: "logit（对数几率）",
    en: "logit",
    def: {
      zh:
        "进入 sigmoid 或 softmax 之前的分数，可以取任意实数；$z = \\log\\frac{p}{1-p}$。损失应当直接从 logit 计算。",
      en:
        "The score before the sigmoid or softmax, any real number; $z = \\log\\frac{p}{1-p}$. Compute losses from the logits directly.",
    },
    katas: [3],
  },
  {
    id: "sigmoid",
    zh: "sigmoid 函数",
    en: "sigmoid",
    def: {
      zh: "$\\sigma(z) = 1/(1 + e^{-z})$，把实数压到 $(0, 1)$。",
      en: "$\\sigma(z) = 1/(1 + e^{-z})$, squashing a real number into $(0, 1)$.",
    },
    katas: [3],
  },
  {
    id: "cross-entropy",
    zh: "交叉熵",
    en: "cross-entropy",
    def: {
      zh:
        "模型给真实标签的概率取负对数再平均：$-\\log p_y$。与 sigmoid/softmax 搭配时梯度就是“预测减目标”。",
      en:
        "The mean negative log of the probability the model gave the true label, $-\\log p_y$. With a sigmoid or softmax its gradient is the prediction minus the target.",
    },
    katas: [3, 4],
  },
  {
    id: "adam",
    zh: "优化器（Adam）",
    en: "optimizer (Adam)",
    def: {
      zh:
        "根据梯度更新参数的算法。Adam 保存梯度及其平方的滑动平均，每个参数每步大约移动一个学习率。",
      en:
        "The algorithm that turns gradients into parameter updates. Adam keeps running means of the gradient and its square; each parameter moves by about the learning rate per step.",
    },
    katas: [3],
  },
  {
    id: "accuracy",
    zh: "准确率",
    en: "accuracy",
    def: {
      zh: "预测正确的样本所占比例。要在模型没见过的数据上量。",
      en: "The fraction of samples predicted right. Measure it on data the model has not seen.",
    },
    katas: [3],
  },
  {
    id: "train-test-split",
    zh: "训练集与测试集",
    en: "training and test sets",
    def: {
      zh: "把数据分成两份：一份用来训练，另一份留出来，只用来评估模型在新数据上的表现。",
      en:
        "Data split in two: one part to train on, the other held out to measure how the model does on new data.",
    },
    katas: [3],
  },
  {
    id: "seed",
    zh: "随机种子",
    en: "random seed",
    def: {
      zh:
        "决定随机数序列的起点。同一个种子每次给出同样的数据和初始权重，结果才能复现、才能彼此对照。",
      en:
        "The starting point of a random sequence. The same seed gives the same data and initial weights every time, so results can be reproduced and compared.",
    },
    katas: [3],
  },
  {
    id: "mlp",
    zh: "多层感知机",
    en: "multilayer perceptron (MLP)",
    def: {
      zh: "几层线性变换之间夹着非线性激活函数的网络，能学出弯曲的决策边界。",
      en:
        "Linear layers with non-linear activations between them; it can learn curved decision boundaries.",
    },
    katas: [4],
  },
  {
    id: "activation",
    zh: "激活函数（ReLU）",
    en: "activation function (ReLU)",
    def: {
      zh:
        "层与层之间的非线性函数，例如 $\\mathrm{ReLU}(x) = \\max(x, 0)$、tanh、GELU。没有它，多层线性变换等于一层。",
      en:
        "The non-linear function between layers, such as $\\mathrm{ReLU}(x) = \\max(x, 0)$, tanh or GELU. Without it, stacked linear layers collapse into one.",
    },
    katas: [4],
  },
  {
    id: "softmax",
    zh: "softmax",
    en: "softmax",
    def: {
      zh:
        "$p_k = e^{z_k} / \\sum_j e^{z_j}$，把一组 logit 变成概率分布。计算前先减去最大的 logit，避免溢出。",
      en:
        "$p_k = e^{z_k} / \\sum_j e^{z_j}$, turning a vector of logits into a probability distribution. Subtract the largest logit first to avoid overflow.",
    },
    katas: [4],
  },
  {
    id: "batch",
    zh: "批量（小批量）",
    en: "batch (mini-batch)",
    def: {
      zh: "一步训练中一起计算的一组样本。批量越大，梯度越平稳，每步越慢。",
      en:
        "The group of samples processed together in one training step. Larger batches give smoother gradients and slower steps.",
    },
    katas: [4],
  },
  {
    id: "epoch",
    zh: "轮（epoch）",
    en: "epoch",
    def: {
      zh: "把整个训练集完整地过一遍。",
      en: "One full pass over the training set.",
    },
    katas: [4],
  },
  {
    id: "overfitting",
    zh: "过拟合",
    en: "overfitting",
    def: {
      zh: "模型记住了训练集，却在新数据上表现变差：训练损失下降，留出数据上的损失上升。",
      en:
        "The model learns its training set by heart and does worse on new data: training loss falls while held-out loss rises.",
    },
    katas: [4],
  },
  {
    id: "convolution",
    zh: "卷积",
    en: "convolution",
    def: {
      zh:
        "用同一个小卷积核在图像上滑动、逐处做加权求和。权重共享让网络用很少的参数识别各处的局部图案。",
      en:
        "Sliding one small kernel over the image, taking a weighted sum at each position. Sharing the weights lets the network find local patterns anywhere with few parameters.",
    },
    katas: [5],
  },
  {
    id: "pooling",
    zh: "池化",
    en: "pooling",
    def: {
      zh: "在小窗口内取最大值或平均值，缩小特征图。",
      en: "Taking the maximum or the mean over small windows to shrink a feature map.",
    },
    katas: [5],
  },
  {
    id: "rnn",
    zh: "循环神经网络",
    en: "recurrent neural network (RNN)",
    def: {
      zh: "每读一个元素就用同一个单元更新一次隐藏状态：$h_t = \\tanh(x_t W + h_{t-1} U + b)$。",
      en:
        "A network that reads a sequence one element at a time, updating a hidden state with the same cell: $h_t = \\tanh(x_t W + h_{t-1} U + b)$.",
    },
    katas: [6],
  },
  {
    id: "hidden-state",
    zh: "隐藏状态",
    en: "hidden state",
    def: {
      zh: "RNN 在时间步之间传递的向量，概括了到目前为止读到的内容。",
      en:
        "The vector an RNN carries from one time step to the next, summarising what it has read so far.",
    },
    katas: [6],
  },
  {
    id: "one-hot",
    zh: "独热编码",
    en: "one-hot encoding",
    def: {
      zh: "长度等于词表大小的向量，只有对应位置为 1，其余为 0。",
      en: "A vector as long as the vocabulary with a 1 at the item's position and 0 elsewhere.",
    },
    katas: [6],
  },
  {
    id: "vocabulary",
    zh: "词表",
    en: "vocabulary",
    def: {
      zh: "模型认识的全部词元（在字符级模型里就是全部字符），每个对应一个整数编号。",
      en:
        "Every token the model knows (every character, in a character-level model), each with an integer id.",
    },
    katas: [6, 7],
  },
  {
    id: "token",
    zh: "词元",
    en: "token",
    def: {
      zh: "模型处理文本的基本单位：一个字符、一个词或一个子词。",
      en: "The unit a model reads text in: a character, a word or a piece of a word.",
    },
    katas: [7],
  },
  {
    id: "embedding",
    zh: "词嵌入",
    en: "embedding",
    def: {
      zh:
        "把词元编号映射成可学习的稠密向量的查找表，形状 `[vocab, dim]`。相当于独热向量乘一个矩阵，但不必真的构造独热向量。",
      en:
        "A learned lookup table from token ids to dense vectors, shape `[vocab, dim]`. The same as a one-hot vector times a matrix, without building the one-hot vector.",
    },
    katas: [7],
  },
  {
    id: "self-attention",
    zh: "自注意力",
    en: "self-attention",
    def: {
      zh:
        "序列中每个位置用查询与所有位置的键比较，得到权重，再对值加权求和：$\\mathrm{softmax}(QK^\\top/\\sqrt{d})V$。",
      en:
        "Each position compares its query with every position's key, and takes the weighted sum of the values: $\\mathrm{softmax}(QK^\\top/\\sqrt{d})V$.",
    },
    katas: [8],
  },
  {
    id: "qkv",
    zh: "查询、键、值",
    en: "query, key, value",
    def: {
      zh:
        "注意力里由输入经三个线性变换得到的三组向量：查询问“我要找什么”，键答“我有什么”，值是被取走的内容。",
      en:
        "The three linear projections of the input in attention: the query asks what to look for, the key says what is here, the value is what gets taken.",
    },
    katas: [8],
  },
  {
    id: "causal-mask",
    zh: "因果掩码",
    en: "causal mask",
    def: {
      zh:
        "让每个位置只能看到自己和前面的位置。语言模型预测下一个词元时必须有它，否则训练时就偷看了答案。",
      en:
        "Lets each position attend only to itself and earlier positions. A language model needs it: without it, training peeks at the answer.",
    },
    katas: [8],
  },
  {
    id: "multi-head-attention",
    zh: "多头注意力",
    en: "multi-head attention",
    def: {
      zh: "把注意力拆成几个较小的头并行计算，再拼接起来，每个头可以关注不同的关系。",
      en:
        "Several smaller attention heads run side by side and are concatenated; each head can attend to a different relation.",
    },
    katas: [9],
  },
  {
    id: "layer-norm",
    zh: "层归一化",
    en: "layer normalization",
    def: {
      zh: "对每个位置的特征向量减均值、除标准差，再乘可学习的缩放、加偏移，让深层网络训练稳定。",
      en:
        "Normalises each position's feature vector to zero mean and unit variance, then applies a learned scale and shift; it keeps deep networks trainable.",
    },
    katas: [9],
  },
  {
    id: "residual",
    zh: "残差连接",
    en: "residual connection",
    def: {
      zh: "把子层的输入直接加到它的输出上：$x + f(x)$。梯度可以沿这条捷径畅通地传回去。",
      en:
        "Adding a sub-layer's input to its output, $x + f(x)$, so that gradients flow back along the shortcut.",
    },
    katas: [9],
  },
  {
    id: "feed-forward",
    zh: "前馈网络",
    en: "feed-forward network",
    def: {
      zh: "Transformer 块里对每个位置独立作用的两层 MLP。",
      en: "The two-layer MLP inside a transformer block, applied to each position on its own.",
    },
    katas: [9],
  },
  {
    id: "transformer",
    zh: "Transformer 块",
    en: "transformer block",
    def: {
      zh: "自注意力和前馈网络，各自带层归一化和残差连接；LLM 就是把它堆叠起来。",
      en:
        "Self-attention and a feed-forward network, each with layer normalisation and a residual connection; an LLM is a stack of them.",
    },
    katas: [9],
  },
  {
    id: "positional-encoding",
    zh: "位置编码",
    en: "positional encoding",
    def: {
      zh:
        "告诉模型每个词元在第几个位置的向量（可学习或固定）。注意力本身不分先后，没有它模型就不知道词序。",
      en:
        "A vector (learned or fixed) that tells the model where each token sits. Attention alone ignores order; without it the model cannot tell word order.",
    },
    katas: [10],
  },
  {
    id: "language-model",
    zh: "语言模型",
    en: "language model",
    def: {
      zh: "根据前面的词元预测下一个词元的概率分布的模型。",
      en: "A model of the probability distribution of the next token given the tokens before it.",
    },
    katas: [10],
  },
  {
    id: "context-length",
    zh: "上下文长度",
    en: "context length (block size)",
    def: {
      zh: "模型一次最多能看到的词元数。训练样本按这个长度切块，目标是输入右移一位。",
      en:
        "The most tokens the model sees at once. Training examples are cut to this length, with targets shifted by one.",
    },
    katas: [11],
  },
  {
    id: "tokenization",
    zh: "分词",
    en: "tokenization",
    def: {
      zh: "把文本切成词元并转成编号（编码），以及反过来（解码）。",
      en: "Turning text into tokens and ids (encoding), and back (decoding).",
    },
    katas: [11],
  },
  {
    id: "training-loop",
    zh: "训练循环",
    en: "training loop",
    def: {
      zh: "取一批数据、前向计算、算损失、求梯度、更新参数，周而复始，并定期在留出数据上评估。",
      en:
        "Take a batch, run the forward pass, compute the loss, take its gradient, update the parameters; repeat, and evaluate on held-out data now and then.",
    },
    katas: [12],
  },
  {
    id: "greedy-decoding",
    zh: "贪心解码",
    en: "greedy decoding",
    def: {
      zh: "生成时每一步都取概率最大的词元。确定、简单，但容易重复。",
      en:
        "Generating by taking the most probable token at every step: deterministic and simple, but prone to repetition.",
    },
    katas: [6, 13],
  },
  {
    id: "temperature",
    zh: "采样与温度",
    en: "sampling and temperature",
    def: {
      zh:
        "按模型给出的概率随机抽下一个词元。先把 logit 除以温度 $T$：$T < 1$ 更保守，$T > 1$ 更随机。",
      en:
        "Drawing the next token at random from the model's probabilities. Dividing the logits by a temperature $T$ first: $T < 1$ is more conservative, $T > 1$ more random.",
    },
    katas: [13],
  },
  {
    id: "regularization",
    zh: "正则化",
    en: "regularization",
    def: {
      zh: "减轻过拟合的手段，例如 dropout、权重衰减、提前停止。",
      en: "Ways to reduce overfitting, such as dropout, weight decay or early stopping.",
    },
    katas: [14],
  },
  {
    id: "dropout",
    zh: "dropout（随机失活）",
    en: "dropout",
    def: {
      zh: "训练时随机把一部分激活置零（并放大其余的），推理时关闭；迫使网络不依赖个别神经元。",
      en:
        "During training, zeroing a random fraction of activations (and scaling up the rest); off at inference. It keeps the network from relying on single units.",
    },
    katas: [14],
  },
];
